//! Inputs of the messaging services, with their validation rules. The services validate them, so an
//! embedding program gets the same rules as HTTP callers.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::Deserialize;
use serde_json::Value;
use tidings_domain::message::MAX_BODY_CHARS;
use tidings_domain::{ContactFields, ConversationStatus, Platform, UploadId, UserId};
use utoipa::ToSchema;

/// Largest JSON document accepted for metadata or event properties.
const MAX_JSON_BYTES: usize = 16 * 1024;

fn json_object(value: &Option<Value>, _ctx: &()) -> garde::Result {
    match value {
        None => Ok(()),
        Some(v) if !v.is_object() => Err(garde::Error::new("must be a JSON object")),
        Some(v) if v.to_string().len() > MAX_JSON_BYTES => Err(garde::Error::new("must be at most 16 KiB")),
        Some(_) => Ok(()),
    }
}

/// Ids starting with `meta:` are Meta's message ids: a client taking one could make a contact's
/// message look like a redelivery of its own.
fn client_local_id(value: &Option<String>, _ctx: &()) -> garde::Result {
    match value {
        Some(id) if id.starts_with("meta:") => Err(garde::Error::new("must not start with `meta:`")),
        _ => Ok(()),
    }
}

fn attachment_list(value: &Option<Value>, _ctx: &()) -> garde::Result {
    let Some(value) = value else { return Ok(()) };
    let Value::Array(items) = value else {
        return Err(garde::Error::new("must be an array of upload ids"));
    };
    if items.len() > 10 {
        return Err(garde::Error::new("at most 10 attachments"));
    }
    let ids: Option<Vec<UploadId>> = items.iter().map(upload_reference).collect();
    let Some(mut ids) = ids else {
        return Err(garde::Error::new(
            "each attachment is the id of an upload (POST /v1/uploads), or {\"upload_id\": id}",
        ));
    };
    ids.sort();
    ids.dedup();
    if ids.len() < items.len() {
        return Err(garde::Error::new("an upload is attached once"));
    }
    Ok(())
}

/// An item of a message's `attachments`, as the API's schema describes it (the checks above read the
/// JSON itself).
#[derive(Deserialize, ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum AttachmentReference {
    /// The upload's id.
    Id(UploadId),
    /// `{"upload_id": id}`.
    Object {
        /// The upload's id.
        upload_id: UploadId,
    },
}

/// The upload an item of a message's `attachments` names: its id, or `{"upload_id": id}`.
pub(crate) fn upload_reference(item: &Value) -> Option<UploadId> {
    match item {
        Value::String(id) => id.parse().ok(),
        Value::Object(fields) if fields.len() == 1 => fields.get("upload_id")?.as_str()?.parse().ok(),
        _ => None,
    }
}

fn not_blank(value: &Option<String>, _ctx: &()) -> garde::Result {
    match value {
        Some(v) if v.trim().is_empty() => Err(garde::Error::new("must not be blank")),
        _ => Ok(()),
    }
}

/// A contact's fields as callers send them (`POST /v1/contacts`, `PATCH /v1/contacts/{id}`).
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Display name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200, example = "Grace Hopper")]
    pub name: Option<String>,
    /// E-mail.
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254, example = "grace@example.com")]
    pub email: Option<String>,
    /// Phone number.
    #[garde(length(chars, min = 3, max = 40))]
    #[schema(min_length = 3, max_length = 40)]
    pub phone: Option<String>,
    /// Facebook user id.
    #[garde(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub facebook_id: Option<String>,
    /// Instagram user id.
    #[garde(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub instagram_id: Option<String>,
    /// Free-form attributes (JSON object, at most 16 KiB).
    #[garde(custom(json_object))]
    #[schema(value_type = Option<Object>, example = json!({"plan": "pro"}))]
    pub metadata: Option<Value>,
}

impl From<ContactInput> for ContactFields {
    fn from(i: ContactInput) -> Self {
        ContactFields {
            name: i.name.map(|n| n.trim().to_owned()),
            email: i.email,
            phone: i.phone,
            facebook_id: i.facebook_id,
            instagram_id: i.instagram_id,
            external_id: None,
            metadata: i.metadata,
        }
    }
}

/// `POST /v1/identify`: who uses this device.
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifyInput {
    /// Display name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200, example = "Ada")]
    pub name: Option<String>,
    /// E-mail, recorded on the device's contact (never used to find another contact).
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// The company's own id for the person; needs `user_hash`. A device identified with it joins the
    /// contact that has it.
    #[garde(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "crm-7")]
    pub external_id: Option<String>,
    /// Hex HMAC-SHA256 of `external_id` under the app's identity secret, computed by the company's
    /// backend.
    #[garde(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub user_hash: Option<String>,
}

/// `PUT /v1/device`: what the SDK reports about its device.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceInput {
    /// ios, android, web or desktop.
    #[garde(skip)]
    pub platform: Platform,
    /// Push notification token; `null` removes it.
    #[garde(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub push_token: Option<String>,
}

/// `PATCH /v1/conversations/{id}`.
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationPatchInput {
    /// New status.
    #[garde(skip)]
    pub status: Option<ConversationStatus>,
    /// New assignee (a user of the company); `null` unassigns.
    #[garde(skip)]
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<UserId>)]
    pub assignee_id: Option<Option<UserId>>,
}

/// Tells a field that is absent (`None`) from one that is `null` (`Some(None)`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /v1/conversations/{id}/messages`.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageInput {
    /// Text, 1 to 5,000 characters (may be empty when there are attachments).
    #[garde(length(chars, max = MAX_BODY_CHARS))]
    #[schema(max_length = 5000, example = "Hi! How can I help?")]
    pub body: String,
    /// The client's id for the message; a retry with the same id returns the original.
    #[garde(length(min = 1, max = 128), custom(client_local_id))]
    #[schema(min_length = 1, max_length = 128, example = "m-1")]
    pub local_id: Option<String>,
    /// Attachments: up to 10 uploads of the company, by id (`"…"` or `{"upload_id": "…"}`).
    #[garde(custom(attachment_list))]
    #[schema(value_type = Option<Vec<AttachmentReference>>, max_items = 10)]
    pub attachments: Option<Value>,
}

/// `PATCH /v1/messages/{id}`.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageInput {
    /// The new text, 1 to 5,000 characters.
    #[garde(length(chars, min = 1, max = MAX_BODY_CHARS))]
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

/// `POST .../messages/delivered` and `.../messages/read`.
#[derive(Clone, Copy, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    /// Every message up to and including this sequence.
    #[garde(range(min = 1))]
    #[schema(minimum = 1, example = 2)]
    pub up_to_sequence: i64,
}

/// `POST /v1/events/track`.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackInput {
    /// Event name, e.g. `screen_view`.
    #[garde(length(chars, min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "screen_view")]
    pub name: String,
    /// Properties (JSON object, at most 16 KiB).
    #[garde(custom(json_object))]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Value>,
    /// When it happened (device clock); defaults to now.
    #[garde(skip)]
    pub occurred_at: Option<DateTime<Utc>>,
}
