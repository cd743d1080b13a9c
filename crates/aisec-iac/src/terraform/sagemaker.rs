//! Amazon SageMaker: notebook instances, Studio domains, endpoint
//! configurations and models.

use aisec_core::Finding;

use super::value::Val;
use super::{Is, Resource, UnsafeDefault, missing, unsafe_defaults};
use crate::rules;

/// `aws_sagemaker_notebook_instance` attributes whose provider default is
/// the unsafe value.
const NOTEBOOK: &[UnsafeDefault] = &[
    UnsafeDefault {
        key: "direct_internet_access",
        rule: &rules::ML_COMPUTE_PUBLIC,
        safe: Is::Str("Disabled"),
        unsafe_value: Is::Str("Enabled"),
        explicit: (
            "has direct internet access enabled",
            "direct_internet_access = \"Enabled\"",
        ),
        unset: (
            "does not set direct_internet_access, which defaults to \"Enabled\"",
            "direct_internet_access unset (default Enabled)",
        ),
    },
    UnsafeDefault {
        key: "root_access",
        rule: &rules::ML_NOTEBOOK_ROOT,
        safe: Is::Str("Disabled"),
        unsafe_value: Is::Str("Enabled"),
        explicit: ("gives notebook users root", "root_access = \"Enabled\""),
        unset: (
            "does not set root_access, which defaults to \"Enabled\"",
            "root_access unset (default Enabled)",
        ),
    },
];

/// `aws_sagemaker_domain`: Studio apps reach the internet directly unless
/// the domain is `VpcOnly`.
const DOMAIN: &[UnsafeDefault] = &[UnsafeDefault {
    key: "app_network_access_type",
    rule: &rules::ML_COMPUTE_PUBLIC,
    safe: Is::Str("VpcOnly"),
    unsafe_value: Is::Str("PublicInternetOnly"),
    explicit: (
        "gives Studio apps direct internet access (PublicInternetOnly)",
        "app_network_access_type = \"PublicInternetOnly\"",
    ),
    unset: (
        "does not set app_network_access_type, which defaults to PublicInternetOnly",
        "app_network_access_type unset",
    ),
}];

pub(super) fn check(r: &Resource<'_>, out: &mut Vec<Finding>) {
    let Resource {
        file,
        module: m,
        ty,
        body,
        line,
        ref addr,
        ..
    } = *r;
    let s = |k: &str| r.get(k);
    let set = |k: &str| r.set(k);
    match ty {
        "aws_sagemaker_notebook_instance" => {
            unsafe_defaults(r, NOTEBOOK, out);
            if !set("kms_key_id") {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no kms_key_id: its storage volume uses an AWS-managed key"),
                    "kms_key_id unset",
                ));
            }
            let imds = body
                .blocks_named("instance_metadata_service_configuration")
                .into_iter()
                .find_map(|b| m.get(&b, "minimum_instance_metadata_service_version"));
            let allows_v1 = |v: &Val| match v {
                Val::Str(s) => s != "2",
                Val::Num(n) => *n != 2.0,
                // A template or variable we cannot resolve is the module user's choice.
                _ => false,
            };
            match imds {
                Some((v, l)) if allows_v1(&v) => out.push(missing(
                    file,
                    &rules::NOTEBOOK_IMDS_V1,
                    l,
                    format!(
                        "{addr} allows IMDSv1 (minimum_instance_metadata_service_version is not 2)"
                    ),
                    "minimum_instance_metadata_service_version != \"2\"",
                )),
                Some(_) => {}
                None => out.push(missing(
                    file,
                    &rules::NOTEBOOK_IMDS_V1,
                    line,
                    format!("{addr} does not require IMDSv2: the default minimum version is 1"),
                    "instance_metadata_service_configuration unset",
                )),
            }
        }
        "aws_sagemaker_domain" => {
            unsafe_defaults(r, DOMAIN, out);
            if !set("kms_key_id") {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no kms_key_id for its EFS volume"),
                    "kms_key_id unset",
                ));
            }
        }
        "aws_sagemaker_endpoint_configuration" if !set("kms_key_arn") => {
            out.push(missing(file, &rules::ML_NO_CMK, line, format!("{addr} has no kms_key_arn: the endpoint's ML storage volume is not encrypted with your key"), "kms_key_arn unset"));
        }
        "aws_sagemaker_model" => {
            let iso = s("enable_network_isolation").and_then(|(v, _)| v.truthy());
            if iso != Some(true) {
                let vpc = if set("vpc_config") {
                    "; it has a vpc_config"
                } else {
                    " and has no vpc_config either"
                };
                let l = s("enable_network_isolation").map_or(line, |(_, l)| l);
                out.push(missing(
                    file,
                    &rules::SAGEMAKER_MODEL_NETWORK,
                    l,
                    format!("{addr} does not enable network isolation{vpc}"),
                    "enable_network_isolation != true",
                ));
            }
        }
        _ => {}
    }
}
