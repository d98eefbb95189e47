//! A ticket's articles (`GET /api/v1/ticket_articles/by_ticket/{id}?expand=true`, oldest
//! first) as Zammad's own caller ID reads them for `maybe` numbers
//! (`Cti::CallerId.build_item`): only the first article counts, and only when the
//! customer sent it (a number in an e-mail signature, say); its numbers belong to its
//! author.

use ringside_core::number::{DefaultCountry, E164};
use serde_json::{Map, Value};

use super::{id, json, numbers, shape, text, ZammadWireError};

/// The most articles one answer may hold. Zammad sends a ticket's articles unpaged; a
/// ticket with more is not a customer's signature worth reading, and the body is bounded
/// anyway.
pub const MAX_ARTICLES: usize = 10_000;

/// The sender name (expanded) of an article the customer sent.
const CUSTOMER: &str = "Customer";

/// Expanded names of associations, which are not text of the article (Zammad's scan sees
/// the article's own String columns only): the creator's login may hold digits.
const ASSOCIATIONS: [&str; 6] = [
    "sender",
    "type",
    "created_by",
    "updated_by",
    "origin_by",
    "ticket",
];

/// What the first article of a ticket gives: its author and the numbers in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerArticle {
    /// Zammad's id of the article.
    pub id: u64,
    /// The user who wrote it (`created_by_id`), as Zammad's caller ID names it.
    pub author_id: u64,
    /// The numbers in its text attributes, in E.164, as Zammad's caller ID finds them.
    pub numbers: Vec<E164>,
}

/// Reads a ticket's articles and gives the first one when the customer sent it; `None`
/// when the ticket has no article, or its first was written by an agent or the system.
pub fn first_by_customer(
    body: &[u8],
    country: &DefaultCountry,
) -> Result<Option<CustomerArticle>, ZammadWireError> {
    let value = json(body)?;
    let Value::Array(articles) = &value else {
        return Err(shape("an array of articles", &value));
    };
    if articles.len() > MAX_ARTICLES {
        return Err(ZammadWireError::TooMany(articles.len()));
    }
    let Some(first) = articles.first() else {
        return Ok(None);
    };
    let Value::Object(article) = first else {
        return Err(shape("an article", first));
    };
    let article_id =
        id(article, "id").ok_or_else(|| shape("an article with an id", &Value::Null))?;
    if text(article, "sender", 64).as_deref() != Some(CUSTOMER) {
        return Ok(None);
    }
    let Some(author_id) = id(article, "created_by_id") else {
        return Ok(None);
    };
    let own: Map<String, Value> = article
        .iter()
        .filter(|(key, _)| !ASSOCIATIONS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok(Some(CustomerArticle {
        id: article_id,
        author_id,
        numbers: numbers::of_record(&own, country),
    }))
}
