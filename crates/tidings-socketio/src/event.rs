//! An event a client emitted: its name, its arguments as the client wrote them, and any binary
//! attachments.

use std::collections::VecDeque;

use bytes::Bytes;
use engineioxide_core::Str;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A client's EVENT (or BINARY_EVENT).
#[derive(Debug)]
pub struct Event {
    /// The namespace it came on.
    pub ns: Str,
    /// The event name.
    pub name: String,
    /// The arguments after the name, as JSON exactly as the client sent them (binary attachments
    /// appear as `{"_placeholder":true,"num":N}`).
    pub args: Vec<Box<RawValue>>,
    /// The binary attachments, in placeholder order.
    pub binaries: VecDeque<Bytes>,
    /// The id the client waits to see acknowledged, if any.
    pub ack: Option<i64>,
}

impl Event {
    /// Reads an event's data: a JSON array whose first element is the name. `None` when it is not.
    pub fn parse(ns: Str, data: &str, binaries: VecDeque<Bytes>, ack: Option<i64>) -> Option<Event> {
        let mut items = serde_json::from_str::<Vec<Box<RawValue>>>(data).ok()?;
        if items.is_empty() {
            return None;
        }
        let name = serde_json::from_str::<String>(items.remove(0).get()).ok()?;
        Some(Event { ns, name, args: items, binaries, ack })
    }

    /// The argument at `index`, read as `T`; `None` when absent or not a `T`.
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Option<T> {
        serde_json::from_str(self.args.get(index)?.get()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name_and_keeps_arguments_as_written() {
        let event =
            Event::parse("/".into(), r#"["message",1,"2",{"3":[true]}]"#, VecDeque::new(), Some(4)).unwrap();
        assert_eq!(event.name, "message");
        let args: Vec<&str> = event.args.iter().map(|a| a.get()).collect();
        assert_eq!(args, ["1", r#""2""#, r#"{"3":[true]}"#]);
        assert_eq!(event.arg::<i64>(0), Some(1));
        assert_eq!(event.arg::<i64>(1), None);
        assert_eq!(event.ack, Some(4));
    }

    #[test]
    fn refuses_what_is_not_a_named_array() {
        for data in ["{}", "[]", "[1,2]", "abc[\"x\"]", "[\"x\"", ""] {
            assert!(Event::parse("/".into(), data, VecDeque::new(), None).is_none(), "{data}");
        }
    }
}
