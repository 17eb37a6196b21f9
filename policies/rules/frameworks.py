"""Framework clauses a rule can evidence, defined once (cdk-nag style: mapping kept apart from logic).

Rules reference these constants; the catalog prints them verbatim.
"""

# GDPR
GDPR_TRANSFER = "GDPR Art. 44-46 (international data transfers)"
GDPR_SECURITY = "GDPR Art. 32 (security of processing)"
GDPR_BY_DESIGN = "GDPR Art. 25 (data protection by design)"

# HIPAA Security Rule, technical safeguards
HIPAA_ACCESS = "HIPAA 164.312(a)(1) (access control)"
HIPAA_ENCRYPTION = "HIPAA 164.312(a)(2)(iv) (encryption at rest)"
HIPAA_AUDIT = "HIPAA 164.312(b) (audit controls)"
HIPAA_INTEGRITY = "HIPAA 164.312(c)(1) (integrity)"
HIPAA_AUTHN = "HIPAA 164.312(d) (person or entity authentication)"
HIPAA_TRANSMISSION = "HIPAA 164.312(e)(1) (transmission security)"

# SOC 2 Trust Services Criteria
SOC2_ACCESS = "SOC 2 CC6.1 (logical access)"
SOC2_ACCESS_ROLES = "SOC 2 CC6.3 (role-based access)"
SOC2_BOUNDARY = "SOC 2 CC6.6 (system boundary protection)"
SOC2_TRANSMISSION = "SOC 2 CC6.7 (data in transit)"
SOC2_MONITORING = "SOC 2 CC7.2 (monitoring of system components)"
SOC2_CHANGE = "SOC 2 CC8.1 (change management)"
SOC2_AVAILABILITY = "SOC 2 A1.2 (availability, recovery)"
SOC2_CONFIDENTIALITY = "SOC 2 C1.1 (confidential information)"

# ISO/IEC 27001:2022 Annex A
ISO_INVENTORY = "ISO 27001 A.5.9 (inventory of assets)"
ISO_CLOUD = "ISO 27001 A.5.23 (use of cloud services)"
ISO_PRIVACY = "ISO 27001 A.5.34 (privacy and protection of PII)"
ISO_PRIVILEGED = "ISO 27001 A.8.2 (privileged access rights)"
ISO_ACCESS_RESTRICTION = "ISO 27001 A.8.3 (information access restriction)"
ISO_VULN = "ISO 27001 A.8.8 (management of technical vulnerabilities)"
ISO_CONFIG = "ISO 27001 A.8.9 (configuration management)"
ISO_DLP = "ISO 27001 A.8.12 (data leakage prevention)"
ISO_BACKUP = "ISO 27001 A.8.13 (information backup)"
ISO_REDUNDANCY = "ISO 27001 A.8.14 (redundancy)"
ISO_LOGGING = "ISO 27001 A.8.15 (logging)"
ISO_MONITORING = "ISO 27001 A.8.16 (monitoring activities)"
ISO_NETWORK = "ISO 27001 A.8.20 (network security)"
ISO_SEGREGATION = "ISO 27001 A.8.22 (segregation of networks)"
ISO_CRYPTO = "ISO 27001 A.8.24 (use of cryptography)"
ISO_CHANGE = "ISO 27001 A.8.32 (change management)"

# EU AI Act (Regulation (EU) 2024/1689), high-risk systems
AIACT_RECORDS = "EU AI Act Art. 12 (record-keeping)"
AIACT_LOG_RETENTION = "EU AI Act Art. 19 (automatically generated logs)"
AIACT_ROBUSTNESS = "EU AI Act Art. 15 (accuracy, robustness, cybersecurity)"
AIACT_QMS = "EU AI Act Art. 17 (quality management system)"
AIACT_MONITORING = "EU AI Act Art. 72 (post-market monitoring)"
