//! Hooks: the bench's own commands (power the DUT, configure it, shape the test network), run
//! with a time limit. A hook that fails, cannot start or overruns is a bench error naming it.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::model::Hook;

/// Runs `hook` with its `{name}` placeholders filled from `values`.
pub async fn run(hook: &Hook, values: &[(&str, String)]) -> Result<(), String> {
    let argv: Vec<String> = hook.argv.iter().map(|a| fill(a, values)).collect();
    let Some((program, args)) = argv.split_first() else {
        return Err(format!("hook {}: empty command", hook.name));
    };
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("hook {}: cannot start `{program}`: {e}", hook.name))?;
    let limit = Duration::from_millis(hook.timeout_ms);
    let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("hook {}: `{program}`: {e}", hook.name)),
        // Dropping the future drops the child, which kills it.
        Err(_) => {
            return Err(format!("hook {}: `{program}` did not finish within {limit:?}; killed", hook.name));
        }
    };
    if output.status.success() {
        tracing::debug!(hook = %hook.name, "hook done");
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    let said = tail.into_iter().rev().collect::<Vec<_>>().join(" / ");
    Err(format!(
        "hook {}: `{program}` failed ({}){}",
        hook.name,
        output.status,
        if said.is_empty() { String::new() } else { format!(": {said}") }
    ))
}

/// Replaces each `{name}` of `values` in `arg`.
fn fill(arg: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(arg.to_owned(), |acc, (name, value)| acc.replace(&format!("{{{name}}}"), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(argv: &[&str], timeout_ms: u64) -> Hook {
        Hook { name: "dut.reset".into(), argv: argv.iter().map(|s| (*s).to_owned()).collect(), timeout_ms }
    }

    #[tokio::test]
    async fn placeholders_are_filled_and_success_is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let h = hook(&["sh", "-c", "echo \"$0\" > \"$1\"", "{site}", "{config}"], 5000);
        run(&h, &[("site", "paris-cdg".into()), ("config", out.display().to_string())]).await.unwrap();
        assert_eq!(std::fs::read_to_string(out).unwrap().trim(), "paris-cdg");
    }

    #[tokio::test]
    async fn a_failing_hook_is_named_with_what_it_said() {
        let err = run(&hook(&["sh", "-c", "echo no hub here >&2; exit 3"], 5000), &[]).await.unwrap_err();
        assert!(err.contains("hook dut.reset") && err.contains("no hub here"), "{err}");
    }

    #[tokio::test]
    async fn an_overrunning_hook_is_killed_and_named() {
        let started = std::time::Instant::now();
        let err = run(&hook(&["sleep", "10"], 200), &[]).await.unwrap_err();
        assert!(err.contains("did not finish within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_missing_program_is_named() {
        let err = run(&hook(&["/nonexistent/flash.sh"], 1000), &[]).await.unwrap_err();
        assert!(err.contains("cannot start `/nonexistent/flash.sh`"), "{err}");
    }
}
