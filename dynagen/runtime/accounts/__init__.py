"""Serving partners in their own AWS accounts.

- ``_partners``: partner configuration (role ARN, external ID, region, endpoint), from code, JSON,
  YAML or the environment;
- ``_resolver``: ``PartnerResolver``: one client (or transport) per partner with credentials from STS
  AssumeRole, cached and refreshed; log redaction of partners' secrets.
"""
