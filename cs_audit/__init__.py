"""cs-audit: a QA auditor for Chinese e-commerce customer-service chat logs."""

__version__ = "0.1.0"
