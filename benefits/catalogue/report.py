"""What the system checks, per product and benefit: the rule kinds each benefit's terms use
(its reason codes, review gates, variants, tiers) and the notes that remain for people to
read. ``python manage.py catalogue_report`` prints it; read from the catalogue files, so a
reviewer sees the data as committed, without a database."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from benefits.catalogue.files import Catalogue
from benefits.terms.benefit_terms import BenefitTerms


@dataclass(frozen=True)
class BenefitReport:
    code: str
    name: str
    rule_kinds: list[str]  # reason codes the benefit can refuse with
    reviews: list[str]  # review gates: "<code>（<by> → <before>）"
    variants: list[str]  # modes / options rules are scoped to
    checks: list[str]  # other decisions the terms drive (tiers, cancellation, SLA)
    notes: list[str]


@dataclass(frozen=True)
class ProductReport:
    code: str
    name: str
    benefits: list[BenefitReport]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _checks(terms: BenefitTerms) -> list[str]:
    checks = []
    if terms.tiers:
        checks.append("tiers:" + ",".join(t.kind for t in terms.tiers))
    if terms.cancellation:
        checks.append("cancellation")
    if terms.sla:
        checks.append(f"sla:{len(terms.sla)}")
    if terms.follow_ups:
        checks.append("follow_ups")
    return checks


def benefit_report(code: str, name: str, terms: BenefitTerms) -> BenefitReport:
    scoped = sorted({v for rule in terms.rules for v in rule.only_for})
    return BenefitReport(
        code=code,
        name=name,
        rule_kinds=terms.reason_codes(),
        reviews=[
            f"{g.code}（{g.by} → {g.before}{'，时效 ' + g.sla if g.sla else ''}）"
            for g in terms.reviews
        ],
        variants=scoped,
        checks=_checks(terms),
        notes=list(terms.notes),
    )


def catalogue_report(catalogue: Catalogue, product: str | None = None) -> list[ProductReport]:
    """Every product (or the one named), every benefit in catalogue order."""
    return [
        ProductReport(
            code=p.code,
            name=p.name,
            benefits=[
                benefit_report(b.code, b.name, b.terms)
                for b in catalogue.benefits
                if b.product == p.code
            ],
        )
        for p in catalogue.products
        if product in (None, p.code)
    ]


def report_text(products: list[ProductReport]) -> str:
    lines: list[str] = []
    for product in products:
        lines.append(f"{product.code}  {product.name}  （{len(product.benefits)} 项权益）")
        for b in product.benefits:
            lines.append(f"  {b.code}  {b.name}")
            lines.append(f"    规则：{', '.join(b.rule_kinds) or '无'}")
            if b.reviews:
                lines.append(f"    审核节点：{', '.join(b.reviews)}")
            if b.variants:
                lines.append(f"    按服务方式：{', '.join(b.variants)}")
            if b.checks:
                lines.append(f"    其他：{', '.join(b.checks)}")
            for note in b.notes:
                lines.append(f"    · {note}")
        lines.append("")
    return "\n".join(lines)
