"""Cross-app tests: deployment, storage, jobs, and the browser harness."""
