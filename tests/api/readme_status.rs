//! The README's status page flow, run verbatim by a shell against the real binary: each
//! answer it shows is checked, JSON by its shape and anything else word for word.

use serde_json::Value;

use crate::binary::{Server, readme_commands, same_shape, shown};

/// Printed after each command, to split the script's output into each command's own.
const SEPARATOR: &str = "--tocsin-readme-command-done--";

#[test]
fn the_readme_status_page_flow_runs_verbatim_against_the_binary() {
    let server = Server::start(&[]);
    let commands = readme_commands("<!-- status-flow -->");
    let script = commands
        .iter()
        .map(|(c, _)| {
            format!(
                "{}\necho; echo {SEPARATOR}",
                c.replace("127.0.0.1:8080", &server.addr)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let output = std::process::Command::new("sh")
        .args(["-c", &format!("set -e\n{script}")])
        .output()
        .expect("sh runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let answers: Vec<&str> = stdout.split(SEPARATOR).map(str::trim).collect();
    assert_eq!(answers.len(), commands.len() + 1, "{stdout}");
    for (i, ((command, shown_output), actual)) in commands.iter().zip(&answers).enumerate() {
        if shown_output.starts_with('{') {
            let actual: Value =
                serde_json::from_str(actual).unwrap_or_else(|e| panic!("{command}: {e}: {actual}"));
            same_shape(&shown(shown_output), &actual, &format!("answer {i}"));
        } else {
            assert_eq!(actual, shown_output, "{command}");
        }
    }
    let page: Value = serde_json::from_str(answers[5]).expect("the page as JSON");
    assert_eq!(page["monitors"][0]["name"], "Website");
    assert_eq!(
        page["monitors"][0]["days"].as_array().map(Vec::len),
        Some(90)
    );
    server.terminate();
}
