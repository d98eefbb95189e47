//! The default country: whose national numbers are meant when a number has no country
//! code, with the prefixes read once from libphonenumber's metadata.

use phonenumber::metadata::DATABASE;

use super::{NumberError, INTERNATIONAL_PREFIX};

/// The country whose national numbers (`030 609854189`) are meant when a number has no
/// country code; Zammad hard-codes Germany, Ringside makes it a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultCountry {
    iso: String,
    calling_code: u16,
    calling_code_digits: String,
    trunk_prefix: Option<String>,
    /// Longest first, so that Kenya's `000` wins over `00`.
    international_prefixes: Vec<String>,
}

impl DefaultCountry {
    /// Looks the country up in libphonenumber's metadata (case-insensitive ISO 3166
    /// alpha-2, e.g. `DE`), once, so that normalizing needs no lookups.
    pub fn from_iso(code: &str) -> Result<DefaultCountry, NumberError> {
        let unknown = || NumberError::UnknownCountry(code.to_owned());
        let iso = code.trim().to_ascii_uppercase();
        if iso.len() != 2 || !iso.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(unknown());
        }
        let metadata = DATABASE.by_id(iso.as_str()).ok_or_else(unknown)?;
        let calling_code = metadata.country_code();
        let trunk_prefix = metadata
            .national_prefix()
            .filter(|prefix| !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned);
        // The country's own prefix counts only when it is a plain digit string of at least
        // two digits (`011`, `810`); regex prefixes and Cape Verde's `0` are left out.
        let own_prefix = metadata
            .international_prefix()
            .map(|prefix| prefix.as_str())
            .filter(|prefix| prefix.len() >= 2 && prefix.bytes().all(|b| b.is_ascii_digit()))
            .filter(|prefix| *prefix != INTERNATIONAL_PREFIX);
        let mut international_prefixes: Vec<String> = own_prefix
            .into_iter()
            .chain([INTERNATIONAL_PREFIX])
            .map(str::to_owned)
            .collect();
        international_prefixes.sort_by_key(|prefix| std::cmp::Reverse(prefix.len()));
        Ok(DefaultCountry {
            iso,
            calling_code,
            calling_code_digits: calling_code.to_string(),
            trunk_prefix,
            international_prefixes,
        })
    }

    /// The upper-case ISO 3166 alpha-2 code, e.g. `DE`.
    pub fn iso(&self) -> &str {
        &self.iso
    }

    /// The country calling code, e.g. `49`.
    pub fn calling_code(&self) -> u16 {
        self.calling_code
    }

    /// Turns a digit string written without `+` into international digits (which may
    /// still start with `0` and so be refused by [`E164`]).
    pub(super) fn internationalize(&self, digits: &str) -> String {
        for prefix in &self.international_prefixes {
            if let Some(rest) = digits.strip_prefix(prefix.as_str()) {
                return rest.to_owned();
            }
        }
        match &self.trunk_prefix {
            Some(trunk) => {
                if let Some(rest) = digits.strip_prefix(trunk.as_str()) {
                    return format!("{}{rest}", self.calling_code_digits);
                }
            }
            // Without a trunk prefix (Italy) a leading zero belongs to the national number.
            None if digits.starts_with('0') => {
                return format!("{}{digits}", self.calling_code_digits);
            }
            None => {}
        }
        digits.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(iso: &str) -> DefaultCountry {
        DefaultCountry::from_iso(iso).unwrap()
    }

    #[test]
    fn default_country_reads_the_metadata() {
        let de = country("de");
        assert_eq!(de.iso(), "DE");
        assert_eq!(de.calling_code(), 49);
        assert_eq!(country(" at ").calling_code(), 43);
        assert_eq!(country("US").calling_code(), 1);
    }

    #[test]
    fn unknown_countries_are_refused_by_name() {
        for code in ["XX", "001", "", "Germany", "D"] {
            let err = DefaultCountry::from_iso(code).unwrap_err();
            assert_eq!(err, NumberError::UnknownCountry(code.to_owned()));
            assert!(err.to_string().contains(&format!("{code:?}")), "{err}");
        }
    }
}
