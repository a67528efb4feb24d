//! Webhook bodies: one event rendered as JSON, XML or name-value pairs, the three formats
//! InstaMed offers. The NVP flattening also supplies the query string of GET and DELETE
//! deliveries.

use quittance_domain::webhooks::PayloadFormat as Format;
use serde_json::Value;

/// The event as a body in `format`. JSON is the value as is, compact.
pub fn render(event: &Value, format: Format) -> Vec<u8> {
    match format {
        // A `Value`'s Display is its compact JSON text, the same bytes `serde_json::to_vec` gives.
        Format::Json => event.to_string().into_bytes(),
        Format::Xml => to_xml(event).into_bytes(),
        Format::Nvp => to_query(event).into_bytes(),
    }
}

/// The event flattened into name-value pairs: nested object keys joined with `.`, array
/// elements as `name[0]`, `name[1].field`; strings as they are, numbers and booleans as their
/// JSON text, null as an empty value; an empty object or array contributes nothing.
pub fn flatten(event: &Value) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    flatten_into("", event, &mut pairs);
    pairs
}

/// `flatten` encoded as `application/x-www-form-urlencoded` text.
pub fn to_query(event: &Value) -> String {
    serde_urlencoded::to_string(flatten(event)).expect("string pairs always form-encode")
}

fn flatten_into(name: &str, value: &Value, pairs: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_name = if name.is_empty() {
                    key.clone()
                } else {
                    format!("{name}.{key}")
                };
                flatten_into(&child_name, child, pairs);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten_into(&format!("{name}[{index}]"), item, pairs);
            }
        }
        Value::Null => pairs.push((name.to_owned(), String::new())),
        Value::String(text) => pairs.push((name.to_owned(), text.clone())),
        Value::Bool(_) | Value::Number(_) => pairs.push((name.to_owned(), value.to_string())),
    }
}

fn to_xml(event: &Value) -> String {
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    write_element(&mut xml, "event", event);
    xml
}

/// Writes `value` as an element named `name`, or as `<field name="…">` when `name` is not a
/// usable XML name, so that any JSON key survives.
fn write_element(xml: &mut String, name: &str, value: &Value) {
    let plain = is_xml_name(name);
    let tag = if plain { name } else { "field" };
    xml.push('<');
    xml.push_str(tag);
    if !plain {
        xml.push_str(" name=\"");
        escape_into(xml, name);
        xml.push('"');
    }
    if value.is_null() {
        xml.push_str("/>");
        return;
    }
    xml.push('>');
    write_content(xml, value);
    xml.push_str("</");
    xml.push_str(tag);
    xml.push('>');
}

fn write_content(xml: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(_) | Value::Number(_) => xml.push_str(&value.to_string()),
        Value::String(text) => escape_into(xml, text),
        Value::Array(items) => {
            for item in items {
                write_element(xml, "item", item);
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                write_element(xml, key, child);
            }
        }
    }
}

/// A conservative XML name: an ASCII letter or `_`, then ASCII letters, digits, `_`, `-`, `.`,
/// and not starting with the reserved "xml" in any case.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let reserved = name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml"));
    first_ok && rest_ok && !reserved
}

/// Escapes text for element content and attribute values alike.
fn escape_into(xml: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\'' => xml.push_str("&apos;"),
            // A parser would turn a literal CR into LF.
            '\r' => xml.push_str("&#13;"),
            // XML 1.0 cannot carry these at all, not even as character references.
            '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\u{E}'..='\u{1F}'
            | '\u{FFFE}'
            | '\u{FFFF}' => {
                xml.push('\u{FFFD}');
            }
            _ => xml.push(c),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

    // The allocation's keys are already in alphabetical order, so the expectations hold
    // whether or not serde_json preserves insertion order.
    fn sample() -> Value {
        json!({
            "id": "evt_1",
            "object": "event",
            "type": "payment.approved",
            "created_at": "2026-11-21T10:00:00Z",
            "data": {
                "amount": "12.50",
                "allocations": [{"amount": "12.50", "sub_account_id": "sub_1"}],
                "note": null,
                "captured": true
            }
        })
    }

    fn xml(event: &Value) -> String {
        String::from_utf8(render(event, Format::Xml)).unwrap()
    }

    fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
        pairs.sort();
        pairs
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn content_types() {
        assert_eq!(Format::Json.content_type(), "application/json");
        assert_eq!(Format::Xml.content_type(), "application/xml; charset=utf-8");
        assert_eq!(
            Format::Nvp.content_type(),
            "application/x-www-form-urlencoded"
        );
    }

    #[test]
    fn json_round_trips() {
        let event = sample();
        let body = render(&event, Format::Json);
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), event);
        assert!(!body.contains(&b'\n'), "compact JSON");
    }

    #[test]
    fn flattens_the_sample() {
        let expected = owned(&[
            ("created_at", "2026-11-21T10:00:00Z"),
            ("data.allocations[0].amount", "12.50"),
            ("data.allocations[0].sub_account_id", "sub_1"),
            ("data.amount", "12.50"),
            ("data.captured", "true"),
            ("data.note", ""),
            ("id", "evt_1"),
            ("object", "event"),
            ("type", "payment.approved"),
        ]);
        assert_eq!(sorted(flatten(&sample())), expected);
    }

    #[test]
    fn flattens_nested_arrays_numbers_and_empties() {
        // Array order is fixed, so a single top-level key gives an exact ordered result.
        let nested = json!({"a": [[1, 2], [{"b": null}], [], {}]});
        assert_eq!(
            flatten(&nested),
            owned(&[("a[0][0]", "1"), ("a[0][1]", "2"), ("a[1][0].b", "")])
        );

        let scalars = json!({"n": 3, "f": 1.5, "s": "12.50", "t": false, "e": {}, "z": []});
        let expected = owned(&[("f", "1.5"), ("n", "3"), ("s", "12.50"), ("t", "false")]);
        assert_eq!(sorted(flatten(&scalars)), expected);
    }

    #[test]
    fn query_encodes_and_round_trips() {
        let event = json!({"q": "a&b=c d", "data": {"note": null}});
        let query = to_query(&event);
        assert!(query.contains("q=a%26b%3Dc+d"), "{query}");
        assert!(query.contains("data.note="), "{query}");
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap();
        assert_eq!(decoded, flatten(&event));
        assert_eq!(render(&event, Format::Nvp), query.into_bytes());
    }

    #[test]
    fn xml_of_the_sample() {
        let body = xml(&sample());
        assert!(body.starts_with(&format!("{DECLARATION}<event>")), "{body}");
        assert!(body.ends_with("</event>"), "{body}");
        for part in [
            "<id>evt_1</id>",
            "<object>event</object>",
            "<type>payment.approved</type>",
            "<amount>12.50</amount>",
            "<allocations><item><amount>12.50</amount><sub_account_id>sub_1</sub_account_id>\
             </item></allocations>",
            "<note/>",
            "<captured>true</captured>",
        ] {
            assert!(body.contains(part), "missing {part} in {body}");
        }
    }

    #[test]
    fn xml_nests_arrays_numbers_and_nulls() {
        let event = json!({"m": [[1, null], {}, [], 2.5]});
        let expected = format!(
            "{DECLARATION}<event><m><item><item>1</item><item/></item><item></item>\
             <item></item><item>2.5</item></m></event>"
        );
        assert_eq!(xml(&event), expected);
    }

    #[test]
    fn xml_escapes_text() {
        let body = xml(&json!({"text": "<&>\"'"}));
        assert!(
            body.contains("<text>&lt;&amp;&gt;&quot;&apos;</text>"),
            "{body}"
        );

        let body = xml(&json!({"c": "a\u{1}b\rc"}));
        assert!(body.contains("<c>a\u{FFFD}b&#13;c</c>"), "{body}");
    }

    #[test]
    fn xml_falls_back_to_field_for_unusable_names() {
        let cases = [
            (
                "1bad key",
                json!("v"),
                r#"<field name="1bad key">v</field>"#,
            ),
            ("XmlThing", json!(1), r#"<field name="XmlThing">1</field>"#),
            ("a<b", json!(null), r#"<field name="a&lt;b"/>"#),
            ("", json!(true), r#"<field name="">true</field>"#),
            ("_a-b.c9", json!("ok"), "<_a-b.c9>ok</_a-b.c9>"),
        ];
        for (key, value, expected) in cases {
            let event = Value::Object([(key.to_owned(), value)].into_iter().collect());
            assert_eq!(
                xml(&event),
                format!("{DECLARATION}<event>{expected}</event>")
            );
        }
    }
}
