"""The Pulumi program that deploys the 1Password SCIM Bridge on DigitalOcean."""
