/* placeholder: the TOML reader (issue 2) */
