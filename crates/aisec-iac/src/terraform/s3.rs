//! Amazon S3: public buckets (canned ACLs, grants, policies, public access
//! blocks) and buckets without versioning, encryption or access logging in
//! their module.

use aisec_core::{FileInput, Finding, Severity};

use super::policy::{Statement, statements};
use super::value::{Body, Module, Val};
use super::{Resource, missing};
use crate::rules;

pub(super) const S3_VERSIONING: &str = "aws_s3_bucket_versioning";
pub(super) const S3_ENCRYPTION: &str = "aws_s3_bucket_server_side_encryption_configuration";
pub(super) const S3_LOGGING: &str = "aws_s3_bucket_logging";

pub(super) fn check(r: &Resource<'_>, out: &mut Vec<Finding>) {
    let Resource {
        file,
        module: m,
        ty,
        name,
        body,
        line,
        ref addr,
    } = *r;
    let s = |k: &str| r.get(k);
    match ty {
        "aws_s3_bucket" => check_bucket(file, m, name, body, line, out),
        "aws_s3_bucket_acl" => {
            if let Some((v, l)) = s("acl") {
                public_acl(file, addr, &v, l, out);
            }
            for acp in body.blocks_named("access_control_policy") {
                for g in acp.blocks_named("grant") {
                    for gr in g.blocks_named("grantee") {
                        if let Some((v, l)) = m.get(&gr, "uri")
                            && v.as_str().is_some_and(|u| {
                                u.ends_with("/AllUsers") || u.ends_with("/AuthenticatedUsers")
                            })
                        {
                            out.push(missing(
                                file,
                                &rules::S3_PUBLIC,
                                l,
                                format!("{addr} grants access to {}", v.as_str().unwrap_or("")),
                                v.as_str().unwrap_or("").to_owned(),
                            ));
                        }
                    }
                }
            }
        }
        "aws_s3_bucket_public_access_block" => {
            let off: Vec<&str> = [
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            ]
            .into_iter()
            .filter(|k| s(k).and_then(|(v, _)| v.truthy()) != Some(true))
            .collect();
            if !off.is_empty() {
                let l = off
                    .iter()
                    .find_map(|k| s(k).map(|(_, l)| l))
                    .unwrap_or(line);
                out.push(missing(file, &rules::S3_PUBLIC, l, format!("{addr} leaves {} off (unset means false): the bucket can be made public", off.join(", ")), off.join(", ")).severity(Severity::Medium));
            }
        }
        "aws_s3_bucket_policy" => {
            if let Some(a) = body.attr("policy") {
                let v = m.eval(&a.val);
                for st in statements(m, &v) {
                    public_statement(file, addr, &st, a.line, out);
                }
            }
        }
        _ => {}
    }
}

fn public_acl(file: &FileInput<'_>, addr: &str, v: &Val, l: u32, out: &mut Vec<Finding>) {
    let Some(acl) = v.as_str() else { return };
    let sev = match acl {
        "public-read-write" => Severity::Critical,
        "public-read" | "authenticated-read" => Severity::High,
        _ => return,
    };
    out.push(
        missing(
            file,
            &rules::S3_PUBLIC,
            l,
            format!("{addr} has the canned ACL `{acl}`"),
            format!("acl = \"{acl}\""),
        )
        .severity(sev),
    );
}

fn check_bucket(
    file: &FileInput<'_>,
    m: &Module,
    name: &str,
    body: &Body,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let addr = format!("aws_s3_bucket.{name}");
    if let Some((v, l)) = m.get(body, "acl") {
        public_acl(file, &addr, &v, l, out);
    }
    if let Some(a) = body.attr("policy") {
        for st in statements(m, &m.eval(&a.val)) {
            public_statement(file, &addr, &st, a.line, out);
        }
    }
    let bucket_name = m
        .get(body, "bucket")
        .and_then(|(v, _)| v.as_str().map(str::to_owned));
    let companion = |ty: &str| -> Vec<&Body> {
        m.resources
            .iter()
            .filter(|(t, _, _)| t == ty)
            .filter(|(_, _, b)| {
                b.attr("bucket").is_some_and(|a| match &a.val {
                    Val::Ref(r) | Val::Tmpl(r) => r.contains(&format!("aws_s3_bucket.{name}.")),
                    other => m
                        .eval(other)
                        .as_str()
                        .is_some_and(|s| Some(s) == bucket_name.as_deref()),
                })
            })
            .map(|(_, _, b)| b)
            .collect()
    };
    // Versioning: inline (v3) or aws_s3_bucket_versioning (v4+).
    let inline_v = body
        .blocks_named("versioning")
        .iter()
        .any(|v| m.get(v, "enabled").and_then(|(x, _)| x.truthy()) == Some(true));
    let split_v = companion(S3_VERSIONING).iter().any(|b| {
        b.blocks_named("versioning_configuration").iter().any(|vc| {
            m.get(vc, "status")
                .and_then(|(x, _)| x.as_str().map(|s| s == "Enabled"))
                == Some(true)
        })
    });
    if !inline_v && !split_v {
        out.push(missing(file, &rules::S3_UNVERSIONED, line, format!("{addr} has no enabled versioning in this module (neither a versioning block nor an aws_s3_bucket_versioning)"), "versioning not enabled"));
    }
    let enc = !body
        .blocks_named("server_side_encryption_configuration")
        .is_empty()
        || !companion(S3_ENCRYPTION).is_empty();
    if !enc {
        out.push(missing(file, &rules::S3_UNENCRYPTED, line, format!("{addr} has no server-side encryption configuration in this module (SSE-S3 default only, no customer key)"), "no encryption configuration"));
    }
    let is_log_bucket = name.contains("log")
        || bucket_name.as_deref().is_some_and(|b| b.contains("log"))
        || m.get(body, "acl")
            .is_some_and(|(v, _)| v.as_str() == Some("log-delivery-write"));
    let logged = !body.blocks_named("logging").is_empty() || !companion(S3_LOGGING).is_empty();
    if !logged && !is_log_bucket {
        out.push(missing(file, &rules::S3_NO_LOGGING, line, format!("{addr} has no access logging in this module (neither a logging block nor an aws_s3_bucket_logging)"), "no access logging"));
    }
}

fn public_statement(
    file: &FileInput<'_>,
    addr: &str,
    st: &Statement,
    line: u32,
    out: &mut Vec<Finding>,
) {
    if st.allow && st.public_principal && !st.conditioned {
        let write = st.actions.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == "*" || a == "s3:*" || a.starts_with("s3:put") || a.starts_with("s3:delete")
        });
        let sev = if write {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(
            missing(
                file,
                &rules::S3_PUBLIC,
                st.line.unwrap_or(line),
                format!(
                    "{addr} allows Principal \"*\" ({}) without a condition",
                    st.actions.join(", ")
                ),
                "Principal: \"*\"",
            )
            .severity(sev),
        );
    }
}
