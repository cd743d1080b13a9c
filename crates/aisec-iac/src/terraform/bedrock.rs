//! Amazon Bedrock: agents without guardrails, and Bedrock used by a module
//! that records no model invocations.

use aisec_core::{Confidence, FileInput, Finding};

use super::value::{Body, Module};
use super::{Resource, missing};
use crate::rules;

pub(super) const BEDROCK_LOGGING: &str = "aws_bedrock_model_invocation_logging_configuration";

pub(super) fn is_bedrock(ty: &str) -> bool {
    ty.starts_with("aws_bedrock") && ty != BEDROCK_LOGGING
}

pub(super) fn check(r: &Resource<'_>, out: &mut Vec<Finding>) {
    let Resource {
        file,
        ty,
        body,
        line,
        ref addr,
        ..
    } = *r;
    match ty {
        "aws_bedrockagent_agent" if body.blocks_named("guardrail_configuration").is_empty() => {
            out.push(missing(
                file,
                &rules::BEDROCK_NO_GUARDRAIL,
                line,
                format!("{addr} has no guardrail_configuration"),
                "guardrail_configuration unset",
            ));
        }
        _ => {}
    }
}

/// Bedrock is used in `file` (its first Bedrock resource is at `line`) but
/// no invocation logging configuration of the module delivers anything.
pub(super) fn check_logging(
    file: &FileInput<'_>,
    module: &Module,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let logging: Vec<&Body> = module
        .resources
        .iter()
        .filter(|(t, _, _)| t == BEDROCK_LOGGING)
        .map(|(_, _, b)| b)
        .collect();
    let delivering = logging.iter().any(|b| {
        b.blocks_named("logging_config").iter().any(|lc| {
            [
                "text_data_delivery_enabled",
                "image_data_delivery_enabled",
                "embedding_data_delivery_enabled",
                "video_data_delivery_enabled",
            ]
            .iter()
            .any(|k| {
                module
                    .get(lc, k)
                    .is_none_or(|(v, _)| v.truthy() != Some(false))
            })
        })
    });
    if !delivering {
        let what = if logging.is_empty() {
            "no aws_bedrock_model_invocation_logging_configuration in this module"
        } else {
            "the invocation logging configuration delivers nothing (all data delivery disabled)"
        };
        out.push(
            Finding::new(
                &rules::BEDROCK_NO_LOGGING,
                file,
                format!("Bedrock is used but {what}: prompts and responses leave no record"),
            )
            .confidence(Confidence::Medium)
            .evidence(BEDROCK_LOGGING)
            .line(line, None),
        );
    }
}
