"""What every layer may use and that imports no other layer: settings (config), redaction of
secrets, the audit log, owner-only files, logo and colour checks, the rules for typed emails,
passwords and names, and the email domain's DNS lookups."""
