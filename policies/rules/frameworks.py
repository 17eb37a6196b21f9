"""Framework clauses, and THE table control → clauses (cdk-nag style: mapping kept apart from logic).

Rules list controls only; a rule's clauses are derived from its controls through
`CONTROL_CLAUSES`, so a clause is mapped once, where the control is. The catalog prints them
verbatim. The table also says which controls cannot be exempted in prod.
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
AIACT_OVERSIGHT = "EU AI Act Art. 14 (human oversight)"
AIACT_DEPLOYER_MONITORING = "EU AI Act Art. 26(5) (deployer monitors operation)"
AIACT_DEPLOYER_LOGS = "EU AI Act Art. 26(6) (deployer keeps logs ≥ 6 months)"

# DORA (Regulation (EU) 2022/2554) and its RTS on the ICT risk management framework
# (Commission Delegated Regulation (EU) 2024/1774): Art. 6 encryption and cryptographic controls,
# Art. 7 cryptographic key management, Art. 12 logging procedures, protocols and tools.
DORA_PROTECTION = "DORA Art. 9 (ICT protection and prevention)"
DORA_RTS_ENCRYPTION = "DORA RTS 2024/1774 Art. 6 (encryption and cryptographic controls)"
DORA_RTS_KEYS = "DORA RTS 2024/1774 Art. 7 (cryptographic key management)"
DORA_RTS_LOGGING = "DORA RTS 2024/1774 Art. 12 (logging)"

# PRA SS1/23 (model risk management principles for banks)
SS123_P1 = "PRA SS1/23 Principle 1 (model identification and inventory)"
SS123_P3 = "PRA SS1/23 Principle 3 (model development, implementation and use)"
SS123_P4 = "PRA SS1/23 Principle 4 (independent validation, ongoing performance monitoring)"

# Federal Reserve / OCC SR 11-7 (guidance on model risk management)
SR117_USE = "SR 11-7 (model implementation and use)"
SR117_MONITORING = "SR 11-7 (ongoing monitoring)"
SR117_INVENTORY = "SR 11-7 (model inventory)"

# ISO/IEC 42001:2023 Annex A (AI management system)
ISO42001_OPERATION = "ISO/IEC 42001 A.6.2.6 (AI system operation and monitoring)"
ISO42001_LOGS = "ISO/IEC 42001 A.6.2.8 (AI system recording of event logs)"

# ISO/IEC 27001:2022 clause 6.1.3 e)-f): the risk treatment plan and the risk owners' acceptance
# of residual risk — what a documented, approved, expiring exemption is.
ISO_RISK_ACCEPTANCE = "ISO 27001 6.1.3 (risk treatment, acceptance of residual risk)"

_ENC = (HIPAA_ENCRYPTION, GDPR_SECURITY, SOC2_CONFIDENTIALITY, ISO_CRYPTO, DORA_RTS_ENCRYPTION)
_RES = (GDPR_TRANSFER, ISO_CLOUD, ISO_PRIVACY, SOC2_CONFIDENTIALITY)
_LOG = (HIPAA_AUDIT, SOC2_MONITORING, ISO_LOGGING, AIACT_RECORDS, DORA_RTS_LOGGING)
_NET = (GDPR_SECURITY, HIPAA_TRANSMISSION, ISO_NETWORK, ISO_SEGREGATION, SOC2_BOUNDARY)
_IAM = (GDPR_SECURITY, HIPAA_ACCESS, ISO_PRIVILEGED, SOC2_ACCESS, SOC2_ACCESS_ROLES)
_K8S = (AIACT_ROBUSTNESS, HIPAA_ACCESS, ISO_CONFIG, SOC2_ACCESS)
_GOV = (ISO_INVENTORY, ISO_CONFIG, SOC2_CHANGE)
#: What the AI-specific clauses mean here (only what a control really evidences):
#: - Art. 12 / 19 / 26(6) and ISO 42001 A.6.2.8: the AI system's own events are recorded and kept
#:   (invocation logging, request/response capture, the trail and its WORM store, retention);
#: - Art. 14 (human oversight): alarms reach a person (M1) and a bad rollout is interrupted and
#:   rolled back on named alarms (M6) — the means of oversight, not the oversight itself;
#: - Art. 26(5) / 72, ISO 42001 A.6.2.6, SR 11-7 ongoing monitoring, SS1/23 P4: output quality,
#:   bias and drift are watched in production (M2-M4), not only uptime;
#: - SS1/23 P1 / P3, SR 11-7 inventory / use: only registered, gated versions are deployed (G2).
_MON = (
    AIACT_MONITORING,
    ISO_MONITORING,
    SOC2_MONITORING,
    AIACT_DEPLOYER_MONITORING,
    ISO42001_OPERATION,
)

#: THE mapping: control id (policies/CONTROLS.md) → framework clauses it evidences. A rule's
#: clauses are derived from its controls (`clauses_for`); rules list controls only.
CONTROL_CLAUSES: dict[str, tuple[str, ...]] = {
    "R1": _RES,
    "R2": _RES,
    "R3": _RES + (ISO_CRYPTO, DORA_RTS_KEYS),
    "R4": _RES + (ISO_BACKUP,),
    "R5": _RES + (AIACT_ROBUSTNESS,),
    "R6": _RES + (AIACT_RECORDS,),
    "R7": _RES + (ISO_VULN,),
    "E1": _ENC,
    "E2": _ENC + (HIPAA_TRANSMISSION,),
    "E3": _ENC,
    "E4": (GDPR_SECURITY, HIPAA_TRANSMISSION, SOC2_TRANSMISSION, ISO_CRYPTO, DORA_RTS_ENCRYPTION),
    "E5": _ENC + (AIACT_RECORDS,),
    "E6": _ENC,
    "E7": _ENC + (HIPAA_AUDIT,),
    "E8": _ENC + (DORA_RTS_KEYS,),
    "E9": _ENC + (DORA_RTS_KEYS, ISO_ACCESS_RESTRICTION, SOC2_ACCESS),
    "E10": _ENC,
    "L1": _LOG + (ISO42001_LOGS,),
    "L2": _LOG + (HIPAA_INTEGRITY,),
    "L3": _LOG,
    "L4": _LOG + (ISO42001_LOGS,),
    "L5": _LOG + (HIPAA_INTEGRITY, AIACT_LOG_RETENTION, AIACT_DEPLOYER_LOGS),
    "L6": _LOG
    + (GDPR_TRANSFER, AIACT_LOG_RETENTION, AIACT_DEPLOYER_LOGS, ISO42001_LOGS, ISO_PRIVACY),
    "L7": _LOG + (AIACT_MONITORING, AIACT_DEPLOYER_LOGS, ISO42001_LOGS),
    "L8": _LOG,
    "L9": _LOG + (ISO_BACKUP, SOC2_AVAILABILITY),
    "L10": _LOG + (AIACT_LOG_RETENTION, AIACT_DEPLOYER_LOGS),
    "L11": _LOG + (ISO_NETWORK,),
    "N1": _NET + (AIACT_ROBUSTNESS, DORA_PROTECTION),
    "N2": _NET + (DORA_PROTECTION,),
    "N3": _NET + (ISO_ACCESS_RESTRICTION,),
    "N4": _NET + (ISO_DLP, DORA_PROTECTION),
    "N5": _NET + (ISO_DLP, DORA_PROTECTION),
    "N6": _NET,
    "N7": _NET,
    "N8": _NET + (ISO_DLP, DORA_PROTECTION),
    "N9": _NET + (ISO_DLP,),
    "N10": _NET + (ISO_ACCESS_RESTRICTION, SOC2_ACCESS),
    "N11": _NET + (SOC2_TRANSMISSION,),
    "N12": _NET,
    "I1": _IAM,
    "I2": _IAM,
    "I3": _IAM,
    "I4": _IAM,
    "I5": _IAM + (HIPAA_AUTHN,),
    "I6": _IAM + (DORA_RTS_KEYS,),
    "I7": _IAM,
    "I8": _IAM + (ISO_ACCESS_RESTRICTION, SOC2_BOUNDARY),
    "M1": (AIACT_MONITORING, ISO_MONITORING, SOC2_MONITORING, AIACT_OVERSIGHT),
    "M2": _MON + (SOC2_AVAILABILITY,),
    "M3": _MON + (AIACT_ROBUSTNESS, SR117_MONITORING, SS123_P4),
    "M4": _MON + (AIACT_ROBUSTNESS, SR117_MONITORING, SS123_P4),
    "M5": (ISO_REDUNDANCY, SOC2_AVAILABILITY, AIACT_ROBUSTNESS),
    "M6": (AIACT_ROBUSTNESS, AIACT_OVERSIGHT, ISO_CHANGE, SOC2_CHANGE, ISO42001_OPERATION),
    "M7": (AIACT_ROBUSTNESS, GDPR_BY_DESIGN, ISO_DLP),
    "K1": _K8S,
    "K2": _K8S,
    "K3": _K8S,
    "K4": _K8S,
    "K5": _K8S,
    "K6": _K8S,
    "K7": _K8S,
    "K8": _K8S,
    "K9": _K8S,
    "K10": _K8S + (ISO_SEGREGATION, SOC2_BOUNDARY),
    "K11": _K8S + (SOC2_BOUNDARY,),
    "G1": _GOV,
    "G2": _GOV
    + (AIACT_ROBUSTNESS, AIACT_QMS, ISO_CHANGE, SS123_P1, SS123_P3, SR117_USE, SR117_INVENTORY),
    "G3": _GOV,
    "G4": _GOV + (ISO_VULN, ISO_CRYPTO),
    "G5": (ISO_RISK_ACCEPTANCE, SOC2_CHANGE),
}

#: The model inventory (regulated-inference:models[*] owner, riskTier, validation) evidences these;
#: it is enforced by the stack config, not by a rule, and reported in the evidence document.
INVENTORY_CLAUSES: tuple[str, ...] = (SS123_P1, SR117_INVENTORY, ISO_INVENTORY, SS123_P4)

#: Controls whose rules cannot be exempted in prod: residency (R1-R7) and the integrity of the
#: audit trail itself (trail on, log validation, WORM store: L1, L2, L5), plus the exemption
#: register (G5) — an accepted risk there would hide the evidence the exemptions rely on.
NOT_EXEMPTABLE_IN_PROD: frozenset[str] = frozenset(
    {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "L1", "L2", "L5", "G5"}
)


def clauses_for(controls: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The framework clauses a set of controls evidences, in table order, without duplicates."""
    out: list[str] = []
    for c in controls:
        for clause in CONTROL_CLAUSES.get(c, ()):
            if clause not in out:
                out.append(clause)
    return tuple(out)


def exemptable_in_prod(controls: tuple[str, ...] | list[str]) -> bool:
    return not any(c in NOT_EXEMPTABLE_IN_PROD for c in controls)
