"""A pull-request comment: verdict, findings, a Mermaid diagram of the deployed architecture.

The comment starts with a hidden marker (`<!-- offline-preview:<stack> -->`)
so the workflow can update its previous comment instead of adding a new one
on every push. The diagram has one node per component instance (nested
components inside their parent's subgraph) and an arrow from one top-level
component to another where resources of the first depend on resources of the
second; components with a finding are coloured.
"""

from __future__ import annotations

from regulated_inference.preview.analysis import MANDATORY, PolicyViolation
from regulated_inference.preview.cost import (
    HOURS_PER_MONTH,
    NOT_INCLUDED,
    money,
    money_range,
    signed,
)
from regulated_inference.preview.report import ComponentGroup, PreviewReport

MARKER = "<!-- offline-preview:{stack} -->"
#: Findings listed per table; the rest is counted.
MAX_TABLE_ROWS = 60
#: GitHub refuses comments over 65,536 characters; optional sections are dropped past this.
MAX_COMMENT_CHARS = 60_000
#: Past this many top-level components the diagram shows one node per component kind
#: (GitHub's Mermaid refuses more than 500 edges).
MAX_DIAGRAM_COMPONENTS = 40


def table_cell(text: str | None) -> str:
    """Table-cell safe: no pipes, no newlines."""
    return " ".join(str(text or "").split()).replace("|", "\\|")


#: The exemption table's header (this report's and the evidence document's rendering).
EXEMPTION_TABLE = [
    "| rule | resource | expires | days left | approver | ticket | findings | justification |",
    "|---|---|---|---|---|---|---|---|",
]


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid_diagram(rep: PreviewReport) -> str:
    """`flowchart` source: components as nodes/subgraphs, dependencies as arrows."""
    tree = rep.component_tree()
    if len(tree.children) > MAX_DIAGRAM_COMPONENTS:
        return _kind_diagram(rep, tree)
    ids: dict[str, str] = {}
    # URN -> id of the node that stands for it (its nearest component, or the stack node).
    owner: dict[str, str] = {}
    lines = ["flowchart LR"]
    counter = iter(range(1, 1_000_000))
    classes: list[str] = []

    status: dict[str, str] = {}
    comp_of = rep.component_of()
    for v in rep.analysis.violations:
        comp = comp_of.get(v.urn or "")
        if comp is None:
            continue
        worst = "fail" if v.enforcement == MANDATORY else "warn"
        if status.get(comp.urn) != "fail":
            status[comp.urn] = worst

    def emit(group: ComponentGroup, indent: str, top: str | None) -> None:
        assert group.resource is not None
        node = f"c{next(counter)}"
        top = top or node
        ids[group.resource.urn] = node
        # Arrows are drawn between top-level components: a nested component's
        # dependencies are its parent's.
        for m in group.members:
            owner[m.urn] = top
        owner[group.resource.urn] = top
        label = (
            f"<b>{_mermaid_label(group.kind)}</b><br/>{_mermaid_label(group.label)}"
            f"<br/>{len(group.members)} resources"
        )
        if group.children:
            lines.append(
                f'{indent}subgraph s{node}["{_mermaid_label(group.kind)}: {_mermaid_label(group.label)}"]'
            )
            lines.append(f"{indent}  direction TB")
            lines.append(f'{indent}  {node}["{label}"]')
            for child in group.children:
                emit(child, indent + "  ", top)
            lines.append(f"{indent}end")
        else:
            lines.append(f'{indent}{node}["{label}"]')
        if group.resource.urn in status:
            classes.append(f"  class {node} {status[group.resource.urn]}")

    for child in tree.children:
        emit(child, "  ", None)
    if tree.members:
        node = "stack"
        lines.append(f'  {node}(["stack: {len(tree.members)} top-level resources"])')
        for m in tree.members:
            owner[m.urn] = node

    edges = _edges(rep, owner)
    for src, dst in sorted(edges, key=lambda e: (_node_order(e[0]), _node_order(e[1]))):
        lines.append(f"  {src} --> {dst}")
    lines.extend(classes)
    lines.append("  classDef fail fill:#ffd7d7,stroke:#c00,color:#000")
    lines.append("  classDef warn fill:#fff3cd,stroke:#b58100,color:#000")
    return "\n".join(lines)


def _kind_diagram(rep: PreviewReport, tree: ComponentGroup) -> str:
    """One node per top-level component kind (e.g. `ManagedInference ×50`), for large stacks."""
    kinds: dict[str, list[ComponentGroup]] = {}
    for child in tree.children:
        kinds.setdefault(child.kind, []).append(child)
    node_of_kind = {kind: f"k{i}" for i, kind in enumerate(sorted(kinds), start=1)}
    owner: dict[str, str] = {m.urn: "stack" for m in tree.members}
    lines = ["flowchart LR"]
    for kind, groups in sorted(kinds.items()):
        node = node_of_kind[kind]
        resources = sum(g.total for g in groups)
        count = f" ×{len(groups)}" if len(groups) > 1 else ""
        lines.append(f'  {node}["<b>{_mermaid_label(kind)}{count}</b><br/>{resources} resources"]')
        for group in groups:
            for sub in group.walk():
                assert sub.resource is not None
                owner[sub.resource.urn] = node
                for m in sub.members:
                    owner[m.urn] = node
    if tree.members:
        lines.append(f'  stack(["stack: {len(tree.members)} top-level resources"])')
    lines.extend(f"  {a} --> {b}" for a, b in sorted(_edges(rep, owner)))
    return "\n".join(lines)


def _edges(rep: PreviewReport, owner: dict[str, str]) -> set[tuple[str, str]]:
    """(node, node) for each dependency (plain or through a property) between resources that
    `owner` draws as different nodes."""
    edges: set[tuple[str, str]] = set()
    for res in rep.recording.resources:
        src = owner.get(res.urn)
        if src is None:
            continue
        deps = set(res.dependencies)
        for urns in res.property_dependencies.values():
            deps.update(urns)
        for dep in deps:
            dst = owner.get(dep)
            if dst is not None and dst != src:
                edges.add((src, dst))
    return edges


def _node_order(node: str) -> int:
    return int(node[1:]) if node[1:].isdigit() else 0


def _violation_rows(rep: PreviewReport, found: list[PolicyViolation]) -> list[str]:
    rows = ["| Rule | Resource | Finding | Remediation |", "|---|---|---|---|"]
    for v in found[:MAX_TABLE_ROWS]:
        where = f"`{v.resource_type}` {v.resource_name}" if v.resource_name else "stack"
        rows.append(
            f"| `{v.policy}` | {table_cell(where)} | {table_cell(v.message)} | {table_cell(rep.violation_remediation(v))} |"
        )
    if len(found) > MAX_TABLE_ROWS:
        rows.append(f"| … | {len(found) - MAX_TABLE_ROWS} more | | |")
    return rows


def render_markdown(rep: PreviewReport) -> str:
    c = rep.counts()
    a = rep.analysis
    enf = rep.enforcement_counts()
    ok = not rep.mandatory
    icon = "✅" if ok else "❌"
    verdict = "no mandatory violation" if ok else f"{len(rep.mandatory)} mandatory violation(s)"
    out: list[str] = [MARKER.format(stack=rep.stack)]
    out.append(f"## {icon} Offline preview of `{rep.stack}`: {verdict}")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    out.append(f"| Project / stack | `{rep.project}` / `{rep.stack}` (region `{rep.region}`) |")
    out.append(
        f"| Resources | {c['total']} ({c['custom']} cloud resources, {c['components']} components, "
        f"{c['providers']} providers) |"
    )
    out.append(
        f"| Policy pack | `{a.pack_name}` {a.pack_version}: {len(a.policies)} rules "
        f"({enf['mandatory']} mandatory, {enf['advisory']} advisory, {enf['disabled']} disabled) |"
    )
    out.append(f"| Findings | {len(rep.mandatory)} mandatory · {len(rep.advisory)} advisory |")
    if rep.cost is not None:
        budget = (
            ""
            if rep.cost.budget_usd is None
            else f" · budget {money(rep.cost.budget_usd)}"
            + (" ❌ exceeded" if rep.cost.budget_exceeded else " ✅")
        )
        out.append(
            f"| Monthly cost | {money_range(rep.cost.total_min, rep.cost.total_max)}{budget} |"
        )
    out.append("")

    if rep.mandatory:
        out.append(f"### ❌ Mandatory violations ({len(rep.mandatory)})")
        out.append("")
        out.extend(_violation_rows(rep, rep.mandatory))
        out.append("")
    if rep.advisory:
        out.append(f"<details><summary>⚠️ Advisory findings ({len(rep.advisory)})</summary>")
        out.append("")
        out.extend(_violation_rows(rep, rep.advisory))
        out.append("")
        out.append("</details>")
        out.append("")

    out.extend(_exemptions_section(rep))
    out.extend(_cost_section(rep))

    out.append("### Architecture")
    out.append("")
    out.append("```mermaid")
    out.append(mermaid_diagram(rep))
    out.append("```")
    out.append("")

    footer = (
        f"<sub>Offline preview: the stack program under simulated AWS, judged by the policy pack "
        f"over the analyzer protocol; reproduce with `make preview STACK={rep.stack}`.</sub>"
    )
    body = "\n".join(out)
    for section in (_resources_section(rep), _coverage_section(rep)):
        if len(body) + len(section) + len(footer) < MAX_COMMENT_CHARS:
            body += "\n" + section
        else:
            body += (
                "\n<sub>Sections left out to fit a comment: the text and JSON reports "
                "(`FORMAT=text`, `FORMAT=json`) have everything.</sub>\n"
            )
            break
    return body + "\n" + footer + "\n"


def _exemptions_section(rep: PreviewReport) -> list[str]:
    exemptions = rep.exemptions_with_findings()
    if not exemptions:
        return []
    out = [
        f"### 📝 Exemptions in force ({len(exemptions)}): accepted risks, reported not enforced",
        "",
        *EXEMPTION_TABLE,
    ]
    for e, hits in exemptions:
        days = e.get("daysLeft")
        left = "**expired**" if days is not None and days < 0 else str(days)
        out.append(
            f"| `{e.get('rule')}` | `{e.get('resource')}` | {e.get('expires')} | {left} | "
            f"{table_cell(e.get('approver'))} | {table_cell(e.get('ticket'))} | {len(hits)} | "
            f"{table_cell(e.get('justification'))} |"
        )
    out.append("")
    return out


def _resources_section(rep: PreviewReport) -> str:
    out = ["<details><summary>Resources by component</summary>", ""]
    out.append("| Component | Name | Resources | Types |")
    out.append("|---|---|---:|---|")
    for group in rep.component_tree().walk():
        if group.resource is None and not group.members:
            continue
        pad = "↳ " * max(group.depth - 1, 0)
        types = ", ".join(f"{n}× `{t}`" for t, n in group.type_counts)
        out.append(
            f"| {pad}{table_cell(group.kind)} | {table_cell(group.label)} | {len(group.members)} | {types} |"
        )
    out += ["", "</details>", ""]
    return "\n".join(out)


def _coverage_section(rep: PreviewReport) -> str:
    coverage = rep.coverage()
    if not coverage:
        return ""
    out = ["<details><summary>Control coverage by framework</summary>", ""]
    out.append("| Framework | Clause | Status | Controls | Rules |")
    out.append("|---|---|---|---|---|")
    for fw, clauses in coverage.items():
        for cl in clauses:
            mark = {"evidenced": "✅", "findings": "⚠️", "failing": "❌"}[cl.status]
            out.append(
                f"| {table_cell(fw)} | {table_cell(cl.clause)} | {mark} {cl.status} | {' '.join(cl.controls)} | "
                f"{table_cell(', '.join(cl.rules))} |"
            )
    out += ["", "</details>", ""]
    return "\n".join(out)


#: Cost items listed in the comment (largest first); the JSON report has all of them.
MAX_COST_ROWS = 15


def _cost_section(rep: PreviewReport) -> list[str]:
    """Monthly cost: total range, budget, difference against the base report, by component."""
    est = rep.cost
    if est is None:
        return (
            [f"<sub>Cost: {table_cell(rep.cost_unavailable)}</sub>", ""]
            if rep.cost_unavailable
            else []
        )
    total = money_range(est.total_min, est.total_max)
    out = [f"### 💰 Monthly cost estimate: {total}", ""]
    if est.budget_exceeded:
        out += [f"❌ **Over budget**: {table_cell(est.budget_message())}", ""]
    elif est.budget_usd is not None:
        out += [
            f"✅ Within `{est.budget_key}` {money(est.budget_usd)} (upper end compared).",
            "",
        ]
    comparison = rep.cost_comparison()
    if comparison is not None:
        b = comparison["base"]["range"]
        out.append(
            f"**Against the base branch**: {money_range(b['min'], b['max'])} → {total} "
            f"(**{signed(comparison['delta']['max'])}**/month at the upper end, "
            f"{signed(comparison['delta']['min'])} at the lower)"
        )
        out.append("")
        if comparison["components"]:
            out += [
                "| Component | Base (max) | This branch (max) | Change |",
                "|---|---:|---:|---:|",
            ]
            for c in comparison["components"][:MAX_COST_ROWS]:
                out.append(
                    f"| {table_cell(c['component'])} | {money(c['base'])} | {money(c['current'])} | "
                    f"{signed(c['delta'])} |"
                )
            out.append("")
        for title, found in (
            ("Added", comparison["itemsAdded"]),
            ("Removed", comparison["itemsRemoved"]),
        ):
            if found:
                names = ", ".join(
                    f"{table_cell(i['description'])} (`{table_cell(i['resourceName'])}`) {money(i['monthly']['max'])}"
                    for i in found[:8]
                )
                more = f" and {len(found) - 8} more" if len(found) > 8 else ""
                out += [f"{title}: {names}{more}", ""]
    out += ["<details><summary>Cost by component and largest items</summary>", ""]
    out += ["| Component | Monthly (min – max) |", "|---|---:|"]
    for label, lo, hi in est.by_component():
        out.append(f"| {table_cell(label)} | {money_range(lo, hi)} |")
    out += ["", "| Resource | Item | Quantity | Unit price | Monthly |", "|---|---|---:|---:|---:|"]
    for i in est.top_items(MAX_COST_ROWS):
        price = f"${i.unit_price:g}" if i.unit_price is not None else "not priced"
        out.append(
            f"| `{table_cell(i.resource.name)}` | {table_cell(i.description)} | {i.quantity_text} "
            f"{table_cell(i.unit)} | {price} | {i.monthly_text} |"
        )
    out.append("")
    if est.assumptions:
        out.append(
            "Assumptions: "
            + "; ".join(f"`{a['key'].split(':', 1)[1]}` = {a['value']}" for a in est.assumptions)
        )
        out.append("")
    out.append(
        f"<sub>{est.table.region} prices dated {est.table.date} "
        f"(`{est.price_table_file}`), {HOURS_PER_MONTH:g} h/month, USD, list prices. "
        f"Not included: {'; '.join(NOT_INCLUDED)}.</sub>"
    )
    out += ["", "</details>", ""]
    return out
