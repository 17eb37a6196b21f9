"""Price tables of the cost estimate: one dated JSON file per region, and the tool that refreshes them.

A table (`regulated_inference/preview/prices/<region>.json`) is data, not code::

    {"region": "eu-west-2", "currency": "USD", "date": "2026-11-29", "method": "...",
     "prices": {"kms:key-month": {"usd": 1.0, "unit": "key-month", "offer": "awskms",
                                  "match": {"usagetype": "EUW2-KMS-Keys"}, "scale": 1,
                                  "source": "https://aws.amazon.com/kms/pricing/ ..."}}}

`refresh` re-reads each price from the AWS Price List bulk file of its offer
(https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offer>/current/<region>/index.json).
The format, as documented in "Reading the price list files" (AWS Billing user
guide, bulk-api-reading-price-list-files): `products` maps a SKU to
`{"sku", "productFamily", "attributes": {...}}`; `terms.OnDemand` maps the SKU
to its offer terms, each with `priceDimensions` whose entries carry `unit`,
`beginRange`, `endRange` and `pricePerUnit: {"USD": "<decimal string>"}`.
A price matches the product whose attributes contain all of its `match`
pairs; of a tiered price the first tier (beginRange "0") is taken, times the
entry's `scale` (e.g. 100000 for a price per 100,000 events).

    python -m regulated_inference.preview.cost_prices refresh --region eu-west-2 --bulk-dir bulk/
    python -m regulated_inference.preview.cost_prices refresh --region eu-west-2 --download   # where reachable
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_DIR = Path(__file__).resolve().parent / "prices"
BULK_URL = (
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{offer}/current/{region}/index.json"
)


class PriceTableError(Exception):
    """No usable price table (or price) for what is being estimated."""


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    unit: str
    source: str


@dataclass(frozen=True)
class PriceTable:
    region: str
    currency: str
    date: str
    method: str
    prices: dict[str, Price]
    path: Path

    def get(self, key: str) -> Price:
        try:
            return self.prices[key]
        except KeyError:
            raise PriceTableError(
                f"no price for '{key}' in the {self.region} price table ({self.path.name}, "
                f"dated {self.date}): add it, or refresh the table with "
                f"`python -m regulated_inference.preview.cost_prices refresh --region {self.region}`"
            ) from None

    def has(self, key: str) -> bool:
        return key in self.prices


def available_regions(prices_dir: Path = PRICES_DIR) -> list[str]:
    return sorted(p.stem for p in prices_dir.glob("*.json"))


def load_table(region: str, prices_dir: Path = PRICES_DIR) -> PriceTable:
    """The table for `region`; PriceTableError naming the regions that have one if there is none."""
    path = prices_dir / f"{region}.json"
    if not path.is_file():
        raise PriceTableError(
            f"no price table for region '{region}' (tables: {', '.join(available_regions(prices_dir)) or 'none'}); "
            f"add prices/{region}.json with `python -m regulated_inference.preview.cost_prices refresh --region {region}`"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        prices = {
            key: Price(key, float(p["usd"]), str(p["unit"]), str(p.get("source", "")))
            for key, p in doc["prices"].items()
        }
        return PriceTable(
            region=doc["region"],
            currency=doc.get("currency", "USD"),
            date=doc["date"],
            method=doc.get("method", ""),
            prices=prices,
            path=path,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PriceTableError(
            f"price table {path} is malformed: {type(exc).__name__}: {exc}"
        ) from exc


# -- refresh from the Price List bulk files ---------------------------------------------------


def on_demand_usd(bulk: dict[str, Any], match: dict[str, str]) -> float | None:
    """The first-tier on-demand USD price of the product whose attributes contain `match`."""
    on_demand = (bulk.get("terms") or {}).get("OnDemand") or {}
    for sku, product in (bulk.get("products") or {}).items():
        attrs = product.get("attributes") or {}
        if not all(attrs.get(k) == v for k, v in match.items()):
            continue
        for term in (on_demand.get(sku) or {}).values():
            dims = list((term.get("priceDimensions") or {}).values())
            dims.sort(key=lambda d: float(d.get("beginRange") or 0))
            for dim in dims:
                usd = (dim.get("pricePerUnit") or {}).get("USD")
                if usd is not None:
                    return float(usd)
    return None


def refresh_table(
    table_path: Path, bulk_files: dict[str, dict[str, Any]], today: str | None = None
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The table at `table_path` with every price found in `bulk_files` (offer code -> parsed file) updated.

    Returns (new document, keys updated, keys not found). Prices not found keep their
    figure and source; the table's date becomes `today` only if something was updated.
    """
    doc = json.loads(table_path.read_text(encoding="utf-8"))
    today = today or _dt.date.today().isoformat()
    updated, missing = [], []
    for key, entry in doc["prices"].items():
        bulk = bulk_files.get(entry.get("offer", ""))
        usd = on_demand_usd(bulk, entry.get("match") or {}) if bulk else None
        if usd is None:
            missing.append(key)
            continue
        entry["usd"] = round(usd * float(entry.get("scale", 1)), 10)
        publication = bulk.get("publicationDate", "")
        entry["source"] = (
            f"AWS Price List bulk file {BULK_URL.format(offer=entry['offer'], region=doc['region'])} "
            f"(version {bulk.get('version', '?')}, published {publication}), match {json.dumps(entry.get('match'))}, "
            f"read {today}"
        )
        updated.append(key)
    if updated:
        doc["date"] = today
        doc["method"] = (
            f"Refreshed from the AWS Price List bulk files on {today}; prices not found there "
            f"({len(missing)}) keep their previous figure and source."
        )
    return doc, updated, missing


def _read_bulk(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m regulated_inference.preview.cost_prices")
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser(
        "refresh", help="update a region's price table from AWS Price List bulk files"
    )
    ref.add_argument("--region", required=True)
    src = ref.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--bulk-dir", type=Path, help="directory of downloaded bulk files named <offer>.json"
    )
    src.add_argument("--download", action="store_true", help="download the bulk files (network)")
    ref.add_argument("--prices-dir", type=Path, default=PRICES_DIR)
    args = parser.parse_args(argv)

    table_path = args.prices_dir / f"{args.region}.json"
    if not table_path.is_file():
        print(
            f"error: no table {table_path} to refresh (copy an existing region's file)",
            file=sys.stderr,
        )
        return 2
    offers = {e.get("offer") for e in json.loads(table_path.read_text())["prices"].values()}
    bulk: dict[str, dict[str, Any]] = {}
    for offer in sorted(o for o in offers if o):
        try:
            if args.download:
                import urllib.request

                url = BULK_URL.format(offer=offer, region=args.region)
                with urllib.request.urlopen(url, timeout=120) as resp:  # noqa: S310 - fixed https URL
                    bulk[offer] = json.loads(resp.read())
            else:
                path = args.bulk_dir / f"{offer}.json"
                if path.is_file():
                    bulk[offer] = _read_bulk(path)
        except (OSError, ValueError) as exc:
            print(f"error: cannot read the {offer} bulk file: {exc}", file=sys.stderr)
            return 2
    doc, updated, missing = refresh_table(table_path, bulk)
    table_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(
        f"{table_path}: {len(updated)} price(s) refreshed, {len(missing)} not found in the bulk files"
    )
    for key in missing:
        print(f"  not found: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
