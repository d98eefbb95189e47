// Every type shared with the desktop shell, generated from its Rust definitions, and the
// providers' display names.
// Import types from this module only, never from the generated files directly.
export type { Provider } from '../bindings/Provider';
export type { Direction } from '../bindings/Direction';
export type { CallState } from '../bindings/CallState';
export type { MatchLevel } from '../bindings/MatchLevel';
export type { Role } from '../bindings/Role';
export type { JournalFilter } from '../bindings/JournalFilter';
export type { Call } from '../bindings/Call';
export type { CallTicket } from '../bindings/CallTicket';
export type { CallerMatch } from '../bindings/CallerMatch';
export type { ContactCard } from '../bindings/ContactCard';
export type { TicketSummary } from '../bindings/TicketSummary';
export type { Presence } from '../bindings/Presence';
export type { OnCall } from '../bindings/OnCall';
export type { JournalPage } from '../bindings/JournalPage';
export type { HubMode } from '../bindings/HubMode';
export type { ConnectionState } from '../bindings/ConnectionState';
export type { AppStatus } from '../bindings/AppStatus';
export type { PopupOn } from '../bindings/PopupOn';
export type { Preferences } from '../bindings/Preferences';
export type { PreferencesUpdate } from '../bindings/PreferencesUpdate';
export type { WebhookUrl } from '../bindings/WebhookUrl';
export type { EmbeddedInfo } from '../bindings/EmbeddedInfo';
export type { PopupView } from '../bindings/PopupView';
export type { DialResult } from '../bindings/DialResult';
export type { DialPrompt } from '../bindings/DialPrompt';
export type { LinkOrigin } from '../bindings/LinkOrigin';
export type { ContactHit } from '../bindings/ContactHit';
export type { Notice } from '../bindings/Notice';
export type { NoticeLevel } from '../bindings/NoticeLevel';
export type { UiError } from '../bindings/UiError';
export type { HelpdeskStatus } from '../bindings/HelpdeskStatus';
export type { HelpdeskConnection } from '../bindings/HelpdeskConnection';
export type { HelpdeskState } from '../bindings/HelpdeskState';
export type { HelpdeskKind } from '../bindings/HelpdeskKind';
export { PROVIDER_NAMES } from '../bindings/providerNames';
