//! Infrastructure-as-code and CI/CD checks for ML platforms: Terraform, Kubernetes, Dockerfiles, GitHub Actions.
