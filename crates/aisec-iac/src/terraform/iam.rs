//! AWS IAM: wildcard and data-plane-write statements in policies, roles
//! and policy documents, and broad AWS managed policies attached.

use aisec_core::{FileInput, Finding, Severity};

use super::policy::{Statement, statements};
use super::value::{Body, Module, Val};
use super::{Resource, missing};
use crate::rules;

pub(super) fn check(r: &Resource<'_>, out: &mut Vec<Finding>) {
    let Resource {
        file,
        module: m,
        ty,
        body,
        ref addr,
        ..
    } = *r;
    let s = |k: &str| r.get(k);
    match ty {
        "aws_iam_policy"
        | "aws_iam_role_policy"
        | "aws_iam_user_policy"
        | "aws_iam_group_policy" => {
            if let Some(a) = body.attr("policy") {
                let v = m.eval(&a.val);
                for st in statements(m, &v) {
                    wildcard_statement(file, addr, &st, a.line, out);
                }
            }
        }
        "aws_iam_role_policy_attachment"
        | "aws_iam_user_policy_attachment"
        | "aws_iam_group_policy_attachment"
        | "aws_iam_policy_attachment" => {
            if let Some((v, l)) = s("policy_arn") {
                managed_policy(file, addr, &v, l, out);
            }
        }
        "aws_iam_role" => {
            if let Some((Val::List(arns), l)) = s("managed_policy_arns") {
                for a in arns {
                    managed_policy(file, addr, &m.eval(&a), l, out);
                }
            }
            for ip in body.blocks_named("inline_policy") {
                if let Some(a) = ip.attr("policy") {
                    for st in statements(m, &m.eval(&a.val)) {
                        wildcard_statement(file, addr, &st, a.line, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn managed_policy(file: &FileInput<'_>, addr: &str, v: &Val, l: u32, out: &mut Vec<Finding>) {
    let Some(arn) = v.as_str() else { return };
    let name = arn.rsplit('/').next().unwrap_or("");
    let sev = match name {
        "AdministratorAccess" => Severity::High,
        "AmazonSageMakerFullAccess" | "AmazonS3FullAccess" | "AmazonBedrockFullAccess" => {
            Severity::Medium
        }
        _ => return,
    };
    if !arn.contains(":iam::aws:policy/") {
        return;
    }
    out.push(
        missing(
            file,
            &rules::IAM_WILDCARD,
            l,
            format!("{addr} attaches the AWS managed policy {name}"),
            arn.to_owned(),
        )
        .severity(sev),
    );
}

fn wildcard_statement(
    file: &FileInput<'_>,
    addr: &str,
    st: &Statement,
    line: u32,
    out: &mut Vec<Finding>,
) {
    if !st.allow {
        return;
    }
    const SERVICES: &[&str] = &["sagemaker:*", "s3:*", "bedrock:*", "iam:*", "kms:*"];
    let mut worst: Option<(Severity, String)> = None;
    for a in &st.actions {
        let lower = a.to_ascii_lowercase();
        let sev = if lower == "*" || lower == "*:*" {
            Severity::High
        } else if SERVICES.contains(&lower.as_str()) {
            Severity::Medium
        } else {
            continue;
        };
        if worst.as_ref().is_none_or(|(s, _)| sev > *s) {
            worst = Some((sev, a.clone()));
        }
    }
    if let Some((sev, action)) = worst {
        out.push(
            missing(
                file,
                &rules::IAM_WILDCARD,
                st.line.unwrap_or(line),
                format!("{addr} allows the action `{action}`"),
                format!("Action: {action}"),
            )
            .severity(sev),
        );
        return;
    }
    // Not a wildcard action, but writes to every bucket or model in the
    // account: one poisoned job can overwrite any dataset or model artifact.
    if !st.resources.iter().any(|r| r == "*") {
        return;
    }
    let write = st.actions.iter().find(|a| {
        let lower = a.to_ascii_lowercase();
        DATA_PLANE_WRITES
            .iter()
            .any(|w| lower == *w || (w.ends_with('*') && lower.starts_with(&w[..w.len() - 1])))
    });
    if let Some(action) = write {
        out.push(
            missing(
                file,
                &rules::IAM_WILDCARD,
                st.line.unwrap_or(line),
                format!("{addr} allows `{action}` on every resource (`Resource: \"*\"`)"),
                format!("Action: {action}; Resource: *"),
            )
            .severity(Severity::Low),
        );
    }
}

/// Actions that change training data or model artifacts, or deploy models,
/// as IAM spells them (lower case; a trailing `*` is a prefix).
const DATA_PLANE_WRITES: &[&str] = &[
    "s3:putobject",
    "s3:deleteobject",
    "s3:deleteobjectversion",
    "s3:put*",
    "s3:delete*",
    "sagemaker:createmodel",
    "sagemaker:createendpoint",
    "sagemaker:createendpointconfig",
    "sagemaker:updateendpoint",
    "sagemaker:createtrainingjob",
    "sagemaker:create*",
    "sagemaker:update*",
    "bedrock:createmodelcustomizationjob",
    "bedrock:create*",
];

pub(super) fn check_policy_document(
    file: &FileInput<'_>,
    m: &Module,
    name: &str,
    body: &Body,
    out: &mut Vec<Finding>,
) {
    let addr = format!("data.aws_iam_policy_document.{name}");
    let real: Vec<(Body, u32)> = body
        .blocks
        .iter()
        .filter(|b| b.ident == "statement")
        .map(|b| (b.body.clone(), b.line))
        .collect();
    let all = if real.is_empty() {
        body.blocks_named("statement")
            .into_iter()
            .map(|b| {
                let l = b.attrs.first().map_or(1, |a| a.line);
                (b, l)
            })
            .collect()
    } else {
        real
    };
    for (st_body, st_line) in all {
        let effect = m
            .get(&st_body, "effect")
            .and_then(|(v, _)| v.as_str().map(str::to_owned));
        let actions: Vec<String> = match m.get(&st_body, "actions") {
            Some((Val::List(items), _)) => items
                .iter()
                .filter_map(|i| m.eval(i).as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let resources: Vec<String> = match m.get(&st_body, "resources") {
            Some((Val::List(items), _)) => items
                .iter()
                .filter_map(|i| m.eval(i).as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let line = st_body.attr("actions").map_or(st_line, |a| a.line);
        let st = Statement {
            allow: effect.as_deref().is_none_or(|e| e == "Allow"),
            actions,
            resources,
            public_principal: false,
            conditioned: false,
            line: Some(line),
        };
        wildcard_statement(file, &addr, &st, line, out);
    }
}
