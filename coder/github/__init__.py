"""coder as a GitHub Action: trigger policy, REST client, the read-only agent job and the privileged publish job."""
