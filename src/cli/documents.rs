//! `tocsin apply` and `tocsin export`: a document of monitors sent to, or fetched from, a
//! tocsin server with an API key. `apply` prints the plan like a diff and exits 0 when it
//! was applied or there was nothing to do, 2 when the input is invalid, 1 on any other
//! failure (the server unreachable, a refused key, a server error).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use http::{Method, StatusCode};
use serde_json::Value;

use super::remote::{Answer, Remote};

/// Exit code for invalid input.
const INVALID: u8 = 2;

/// Where the server is and how to speak for the account.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The tocsin server, e.g. https://tocsin.example.com.
    #[arg(long, env = "TOCSIN_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An API key (make one with POST /api/v1/api-keys).
    #[arg(long, env = "TOCSIN_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

/// `tocsin apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The document (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: PathBuf,
    /// Delete the monitors the document does not name.
    #[arg(long)]
    prune: bool,
    /// Print the plan without changing anything.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// `tocsin export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write JSON instead of YAML.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerArgs,
}

fn remote(args: &ServerArgs) -> Result<Remote, ExitCode> {
    Remote::new(&args.server, args.api_key.clone()).map_err(|e| {
        eprintln!("tocsin: {e}");
        ExitCode::from(INVALID)
    })
}

/// Sends the document and prints the plan.
pub async fn apply(args: ApplyArgs) -> ExitCode {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.file)
    };
    let text = match text {
        Ok(text) => text,
        Err(e) => {
            eprintln!("tocsin: {}: {e}", args.file.display());
            return ExitCode::from(INVALID);
        }
    };
    // Secrets come from the environment: a missing one stops here, before anything is sent.
    let text = match super::references::resolve(&text, |name| std::env::var(name).ok()) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("tocsin: {}: {e}", args.file.display());
            return ExitCode::from(INVALID);
        }
    };
    let remote = match remote(&args.server) {
        Ok(remote) => remote,
        Err(code) => return code,
    };
    let body = serde_json::json!({"document": text, "prune": args.prune, "dry_run": args.dry_run});
    let answer = match remote
        .send(
            Method::POST,
            "/api/v1/apply",
            Some(body.to_string()),
            "application/json",
        )
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            eprintln!("tocsin: {e}");
            return ExitCode::FAILURE;
        }
    };
    if answer.status != StatusCode::OK {
        return refused(&args.file.display().to_string(), &answer);
    }
    match serde_json::from_str::<Value>(&answer.body) {
        Ok(plan) => {
            print!("{}", render_plan(&plan, args.dry_run));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin: the server's answer is not a plan: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fetches the account's document and prints it.
pub async fn export(args: ExportArgs) -> ExitCode {
    let remote = match remote(&args.server) {
        Ok(remote) => remote,
        Err(code) => return code,
    };
    let accept = if args.json {
        "application/json"
    } else {
        "application/yaml"
    };
    match remote
        .send(Method::GET, "/api/v1/export", None, accept)
        .await
    {
        Ok(answer) if answer.status == StatusCode::OK => {
            print!("{}", answer.body);
            ExitCode::SUCCESS
        }
        Ok(answer) => refused("export", &answer),
        Err(e) => {
            eprintln!("tocsin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a refusal; a document the server found invalid exits 2, anything else 1.
fn refused(what: &str, answer: &Answer) -> ExitCode {
    eprintln!("tocsin: {what}: {}", answer.error_message());
    if answer.status == StatusCode::UNAUTHORIZED {
        eprintln!(
            "tocsin: send an API key in TOCSIN_API_KEY (or --api-key): make one with \
             POST /api/v1/api-keys"
        );
    }
    if answer.status == StatusCode::UNPROCESSABLE_ENTITY {
        ExitCode::from(INVALID)
    } else {
        ExitCode::FAILURE
    }
}

/// The plan as a diff: `+` created, `~` updated with each field's change, `-` deleted;
/// channels first (a changed secret reads `changed`), then monitors.
pub fn render_plan(plan: &Value, dry_run: bool) -> String {
    let mut out = String::new();
    let channels = plan.get("channels").filter(|c| c.is_object());
    let channel_counts = channels.map(|c| render_part(c, "channel ", &mut out));
    let counts = render_part(plan, "", &mut out);
    let changed = |c: &[usize; 4]| c[..3].iter().any(|n| *n > 0);
    let verdict = if !changed(&counts) && !channel_counts.as_ref().is_some_and(changed) {
        "nothing to do"
    } else if dry_run {
        "dry run: nothing changed"
    } else {
        "applied"
    };
    if let Some(c) = channel_counts {
        out.push_str(&format!(
            "channels: {} to create, {} to update, {} to delete, {} unchanged\n",
            c[0], c[1], c[2], c[3]
        ));
    }
    out.push_str(&format!(
        "{} to create, {} to update, {} to delete, {} unchanged ({verdict})\n",
        counts[0], counts[1], counts[2], counts[3]
    ));
    out
}

/// Writes one part's lines (each name after `prefix`) and answers its counts: created,
/// updated, deleted, unchanged.
fn render_part(plan: &Value, prefix: &str, out: &mut String) -> [usize; 4] {
    let names = |key: &str| -> Vec<String> {
        plan[key]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().or_else(|| v["name"].as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    for name in names("created") {
        out.push_str(&format!("+ {prefix}{name}\n"));
    }
    for update in plan["updated"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "~ {prefix}{}\n",
            update["name"].as_str().unwrap_or_default()
        ));
        for change in update["changes"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "    {}: {} -> {}\n",
                change["field"].as_str().unwrap_or_default(),
                change["from"],
                change["to"]
            ));
        }
    }
    for name in names("deleted") {
        out.push_str(&format!("- {prefix}{name}\n"));
    }
    [
        names("created").len(),
        names("updated").len(),
        names("deleted").len(),
        names("unchanged").len(),
    ]
}
