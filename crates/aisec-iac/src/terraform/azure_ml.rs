//! Azure Machine Learning: workspaces, compute instances and clusters.

use aisec_core::Finding;

use super::{Is, Resource, UnsafeDefault, missing, unsafe_defaults};
use crate::rules;

/// `azurerm_machine_learning_workspace`: public network access is the
/// default.
const WORKSPACE: &[UnsafeDefault] = &[UnsafeDefault {
    key: "public_network_access_enabled",
    rule: &rules::ML_WORKSPACE_PUBLIC,
    safe: Is::Bool(false),
    unsafe_value: Is::Bool(true),
    explicit: (
        "enables public network access",
        "public_network_access_enabled = true",
    ),
    unset: (
        "does not set public_network_access_enabled = false (public access is the default)",
        "public_network_access_enabled unset",
    ),
}];

/// Compute instances and clusters: nodes get public IPs by default.
const COMPUTE: &[UnsafeDefault] = &[UnsafeDefault {
    key: "node_public_ip_enabled",
    rule: &rules::ML_COMPUTE_PUBLIC,
    safe: Is::Bool(false),
    unsafe_value: Is::Bool(true),
    explicit: (
        "gives its nodes public IPs",
        "node_public_ip_enabled = true",
    ),
    unset: (
        "does not set node_public_ip_enabled = false (public IPs are the default)",
        "node_public_ip_enabled unset",
    ),
}];

pub(super) fn check(r: &Resource<'_>, out: &mut Vec<Finding>) {
    let Resource {
        file,
        ty,
        body,
        line,
        ref addr,
        ..
    } = *r;
    let s = |k: &str| r.get(k);
    match ty {
        "azurerm_machine_learning_workspace" => {
            unsafe_defaults(r, WORKSPACE, out);
            if body.blocks_named("encryption").is_empty() {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!(
                        "{addr} has no encryption block: workspace data uses Microsoft-managed keys"
                    ),
                    "encryption unset",
                ));
            }
        }
        "azurerm_machine_learning_compute_instance"
        | "azurerm_machine_learning_compute_cluster" => {
            unsafe_defaults(r, COMPUTE, out);
            if ty.ends_with("instance") {
                if let Some(b) = body.blocks.iter().find(|b| b.ident == "ssh") {
                    out.push(missing(
                        file,
                        &rules::ML_NOTEBOOK_ROOT,
                        b.line,
                        format!("{addr} enables SSH access to the compute instance"),
                        "ssh { ... }",
                    ));
                }
            } else if let Some((v, l)) = s("ssh_public_access_enabled")
                && v.truthy() == Some(true)
            {
                out.push(missing(
                    file,
                    &rules::ML_NOTEBOOK_ROOT,
                    l,
                    format!("{addr} enables public SSH access to its nodes"),
                    "ssh_public_access_enabled = true",
                ));
            }
        }
        _ => {}
    }
}
