"""De-identification: recognizers find personal data, operators replace it, scan proves it gone."""
