//! Generates `idl/<program>.json` for every Anchor program in `programs/`
//! (crates depending on anchor-lang),
//! the way `anchor idl build` does (compile the program's tests with the
//! `idl-build` feature and assemble the printed pieces), without anchor-cli.
//!
//! Usage: iopay-idl [--check] [--root DIR]
//!   (default)  write idl/<name>.json
//!   --check    regenerate in memory and exit 1 if any committed file differs
use std::{
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anchor_lang_idl::build::IdlBuilder;
use anyhow::{bail, Context, Result};

fn programs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in fs::read_dir(root.join("programs")).context("reading programs/")? {
        let path = entry?.path();
        let manifest = path.join("Cargo.toml");
        // Only Anchor programs have an IDL (programs/spl_governance builds the
        // crates.io SPL Governance program, a native one; programs/token_cpi is
        // a library, no cdylib).
        let text = if manifest.is_file() { fs::read_to_string(&manifest)? } else { String::new() };
        let cdylib = text.lines().any(|l| l.trim_start().starts_with("crate-type") && l.contains("cdylib"));
        if text.contains("anchor-lang") && cdylib {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn generate(program: &Path) -> Result<(String, String)> {
    let idl = IdlBuilder::new()
        .program_path(program.to_path_buf())
        // Same lock file as every other build: no silent dependency drift.
        .cargo_args(vec!["--locked".into()])
        .build()
        .with_context(|| format!("building the IDL of {}", program.display()))?;
    let name = idl.metadata.name.clone();
    let mut json = serde_json::to_string_pretty(&idl)?;
    json.push('\n');
    Ok((name, json))
}

fn run() -> Result<bool> {
    let mut check = false;
    let mut root = std::env::current_dir()?;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => root = args.next().context("--root needs a directory")?.into(),
            "-h" | "--help" => {
                println!("usage: iopay-idl [--check] [--root DIR]");
                return Ok(true);
            }
            other => bail!("unknown argument: {other}"),
        }
    }
    // anchor-lang-idl passes RUSTUP_TOOLCHAIN on as a malformed `+toolchain`
    // argument; the caller already chose the toolchain through PATH.
    std::env::remove_var("RUSTUP_TOOLCHAIN");

    let out_dir = root.join("idl");
    fs::create_dir_all(&out_dir)?;
    let mut ok = true;
    for program in programs(&root)? {
        let (name, json) = generate(&program)?;
        let out = out_dir.join(format!("{name}.json"));
        if check {
            let committed = fs::read_to_string(&out).unwrap_or_default();
            if committed != json {
                eprintln!(
                    "STALE: {} differs from the IDL generated from {} (run tools/idl/gen.sh and commit)",
                    out.display(),
                    program.display()
                );
                ok = false;
            } else {
                eprintln!("ok: {}", out.display());
            }
        } else {
            fs::write(&out, json)?;
            eprintln!("wrote {}", out.display());
        }
    }
    Ok(ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
