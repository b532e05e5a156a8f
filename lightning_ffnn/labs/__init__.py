"""The course labs that are not Lightning training runs: small experiments, their tables and figures."""
