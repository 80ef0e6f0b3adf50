//! Every condition form Gatus documents parses; every malformed one is refused with the
//! column where it broke.

use super::super::path::Step;
use super::*;
use crate::monitor::conditions::number::number;

fn parsed(text: &str) -> Condition {
    Condition::parse(text).unwrap_or_else(|e| panic!("`{text}` should parse: {e}"))
}

#[track_caller]
fn refused(text: &str, column: usize, reason: &str) {
    let error = Condition::parse(text).expect_err(text);
    assert!(
        error.reason.contains(reason),
        "`{text}`: expected a reason with `{reason}`, got `{}`",
        error.reason
    );
    assert_eq!(error.column, column, "`{text}`: {error}");
}

fn value(operand: &Operand) -> &Value {
    match operand {
        Operand::Value(value) => value,
        other => panic!("expected a placeholder, got {other:?}"),
    }
}

#[test]
fn every_documented_form_parses() {
    for text in [
        "[STATUS] == 200",
        "[STATUS] < 300",
        "[STATUS] <= 299",
        "[STATUS] > 400",
        "[STATUS] >= 200",
        "[STATUS] != 500",
        "[STATUS] == any(200, 429)",
        "[STATUS] == pat(2*)",
        "[RESPONSE_TIME] < 500",
        "[BODY].status == UP",
        "[BODY].data[0].id == 1",
        "[BODY][0].name == john",
        "[BODY].matrix[0][1] == 3",
        "len([BODY].items) > 0",
        "len([BODY]) == 2",
        "[BODY] == pat(*healthy*)",
        "[BODY].x == any(a, b)",
        "has([BODY].errors) == false",
        "[CERTIFICATE_EXPIRATION] > 48h",
        "[CONNECTED] == true",
        "[DNS_RCODE] == NOERROR",
        "[IP] == 127.0.0.1",
        "[IP] == pat(192.168.*)",
        "200 == [STATUS]",
        "[BODY].a == [BODY].b",
        "[body].Status == UP",
        "  [STATUS] == 200  ",
    ] {
        parsed(text);
    }
}

#[test]
fn the_tree_is_typed() {
    let c = parsed("[BODY].data[0].id == 1");
    assert_eq!(c.operator, Operator::Eq);
    let left = value(&c.left);
    assert_eq!(left.function, None);
    let Placeholder::Body(path) = &left.placeholder else {
        panic!("{left:?}")
    };
    assert_eq!(
        path.0,
        vec![
            Step::Key("data".into()),
            Step::Index(0),
            Step::Key("id".into())
        ]
    );
    assert_eq!(path.to_string(), ".data[0].id");
    assert!(matches!(&c.right, Operand::Literal(l) if l.text == "1" && l.number == Some(1.0)));

    let c = parsed("len([BODY].items) > 0");
    assert_eq!(c.operator, Operator::Gt);
    assert_eq!(value(&c.left).function, Some(Function::Len));

    let c = parsed("[CERTIFICATE_EXPIRATION] > 48h");
    assert!(matches!(&c.right, Operand::Literal(l) if l.number == Some(48.0 * 3_600_000.0)));

    let c = parsed("[BODY].x == any(a, b)");
    assert!(
        matches!(&c.right, Operand::AnyOf(choices) if choices.len() == 2 && choices[1].text == "b")
    );

    assert_eq!(parsed(" [STATUS] == 200 ").as_str(), "[STATUS] == 200");
    assert_eq!(
        parsed("[STATUS] == 200").placeholders().collect::<Vec<_>>(),
        vec![&Placeholder::Status]
    );
}

#[test]
fn gatus_operator_precedence_splits_where_gatus_would() {
    // `==` is looked for first, so the rest is one constant.
    let c = parsed("[BODY] == a < b");
    assert_eq!(c.operator, Operator::Eq);
    assert!(matches!(&c.right, Operand::Literal(l) if l.text == "a < b"));
    // A `<` inside pat() is no operator: it has no spaces around it.
    parsed("[BODY] == pat(*<h1>Example</h1>*)");
}

#[test]
fn numbers_and_durations_read_as_gatus_reads_them() {
    assert_eq!(number("200"), Some(200.0));
    assert_eq!(number("-3"), Some(-3.0));
    assert_eq!(number("1.5"), Some(1.5));
    assert_eq!(number("0x1F"), Some(31.0));
    assert_eq!(number("48h"), Some(172_800_000.0));
    assert_eq!(number("1h30m"), Some(5_400_000.0));
    assert_eq!(number("500ms"), Some(500.0));
    assert_eq!(number("1.5s"), Some(1_500.0));
    assert_eq!(number("2m"), Some(120_000.0));
    for not in ["UP", "", "inf", "NaN", "h", "5d", "1h30", "true"] {
        assert_eq!(number(not), None, "{not}");
    }
}

#[test]
fn malformed_conditions_name_the_column() {
    refused("", 1, "empty");
    refused("[STATUS]==200", 9, "space on each side of `==`");
    refused("[STATUS] = 200", 1, "no comparison");
    refused("[STATUS] == ", 10, "nothing after `==`");
    refused(" == 200", 1, "nothing before `==`");
    refused("[STATUS] == 200 == 300", 17, "appears twice");
    refused("[STATSU] == 200", 1, "unknown placeholder [STATSU]");
    refused("[STATUS].code == 200", 9, "nothing may follow [STATUS]");
    refused("[BODY]status == UP", 7, "expected `.key` or `[index]`");
    refused("[BODY].data[x].id == 1", 13, "`x` is not an array index");
    refused("[BODY].data[-1] == 1", 13, "not an array index");
    refused("[BODY].data[0 == 1", 12, "`[` is not closed");
    refused("[BODY]..x == 1", 7, "followed by a key name");
    refused("[BODY].x] == 1", 9, "`]` without `[`");
    refused("len([BODY].items > 0", 1, "`len(` is not closed");
    refused("len(200) > 0", 5, "takes a placeholder");
    refused("len([STATUS]) > 0", 5, "applies to [BODY]");
    refused("has([CONNECTED]) == true", 5, "applies to [BODY]");
    refused("[BODY] == pat(*healthy*", 11, "`pat(` is not closed");
    refused("[BODY] == pat([a-)", 15, "no end");
    refused("[BODY] == pat([z-a])", 15, "backwards");
    refused("[BODY] == pat(abc\\)", 18, "lone `\\`");
    refused("[BODY].x == any(a, , b)", 19, "empty choice");
    refused("[BODY].x == any()", 17, "empty choice");
    refused("[DOMAIN_EXPIRATION] > 720h", 1, "whois");
    refused("[CONTEXT].id == 1", 1, "not supported");
    refused("1 == 1", 1, "two constants");
    refused("pat(a*) == any(a)", 1, "two constants");
    refused("[STATUS] == OK", 13, "not a number");
    refused("[STATUS] < abc", 12, "not a number");
    refused("[STATUS] == any(200, abc)", 13, "`abc`");
    refused("[RESPONSE_TIME] < fast", 19, "not a number or a duration");
    refused("[CERTIFICATE_EXPIRATION] > 2 days", 28, "not a number");
    refused("[CONNECTED] == yes", 16, "true or false");
    refused("[CONNECTED] < 1", 1, "compare it with == or !=");
    refused("has([BODY].x) > 0", 1, "compare it with == or !=");
    refused("[DNS_RCODE] == NOPE", 16, "DNS response code");
    refused("[DNS_RCODE] > NOERROR", 1, "compare it with == or !=");
    refused("[BODY].x < pat(1*)", 12, "work with == and !=");
    refused("[BODY].count > many", 16, "not a number");
    refused("[STATUS] == 200\u{7}", 16, "control characters");
    refused(
        &format!("[BODY] == {}", "x".repeat(1100)),
        1,
        "at most 1024",
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    refused("[BODY].é[x] == 1", 10, "not an array index");
}

#[test]
fn a_list_names_the_condition_that_broke() {
    let raw = vec!["[STATUS] == 200".to_owned(), "[BODY].x =! 1".to_owned()];
    let error = super::super::Conditions::parse(&raw).expect_err("second is malformed");
    assert!(
        error.starts_with("condition 2 `[BODY].x =! 1` at column"),
        "{error}"
    );
    let many = vec!["[STATUS] == 200".to_owned(); 33];
    assert!(
        super::super::Conditions::parse(&many)
            .expect_err("too many")
            .contains("at most 32")
    );
    let ok = super::super::Conditions::parse(&raw[..1]).expect("valid");
    assert_eq!(ok.sources(), vec!["[STATUS] == 200".to_owned()]);
    assert!(!ok.read_body());
    assert!(
        super::super::Conditions::parse(&["len([BODY]) > 1".to_owned()])
            .expect("valid")
            .read_body()
    );
}

#[test]
fn no_input_makes_the_parser_or_the_evaluator_panic() {
    use super::super::{Conditions, Observation};
    let seeds = [
        "len([BODY].data[0].items) > 0",
        "[BODY].x == any(a, b)",
        "[BODY] == pat([^a-z]*\\*é?)",
        "has([BODY].é[12]) == false",
        "[CERTIFICATE_EXPIRATION] >= 1h30m",
        "0x1F != [STATUS]",
    ];
    let seen = Observation {
        status: Some(200),
        response_time: std::time::Duration::from_millis(5),
        body: br#"{"data": [{"items": [1]}], "x": "a"}"#,
        cert_expires_at: None,
        now: chrono::Utc::now(),
        connected: true,
        dns_rcode: None,
        ip: None,
    };
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        let mut variants = Vec::new();
        for i in 0..=chars.len() {
            variants.push(chars[..i].iter().collect::<String>());
            variants.push(chars[i..].iter().collect::<String>());
            let mut without: Vec<char> = chars.clone();
            if i < chars.len() {
                without.remove(i);
                variants.push(without.into_iter().collect());
            }
            for extra in ['(', ')', '[', ']', '.', ' ', '\\', 'é', '='] {
                let mut with = chars.clone();
                with.insert(i, extra);
                variants.push(with.into_iter().collect());
            }
        }
        for variant in variants {
            if let Ok(parsed) = Conditions::parse(std::slice::from_ref(&variant)) {
                let _ = parsed.evaluate(&seen);
            }
        }
    }
}
