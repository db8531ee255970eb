"""``report.html`` of a bundle: a self-contained page with tables and PNG plots of the results.

Plots are written as PNG files next to the page (``plots/*.png``) so the bundle stays readable without a
server or JavaScript, and renders the same in a browser, a model repo viewer or headless Chromium.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def _plot_success(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["evals"])
    rates = [results["evals"][n]["success_rate"] or 0.0 for n in names]
    errs = [results["evals"][n]["success_stderr"] or 0.0 for n in names]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(names) + 2), 3.2), dpi=100)
    ax.bar(names, rates, yerr=errs, capsize=4, color="#4C72B0")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (± s.e.)")
    ax.set_title("Success rate per eval")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _plot_components(results: dict[str, Any], out: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(e, c, v) for e, r in results["evals"].items() for c, v in r["components"].items()]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(rows) + 2), 3.2), dpi=100)
    ax.bar([f"{e}\n{c}" for e, c, _ in rows], [v for *_, v in rows], color="#55A868")
    ax.set_ylabel("mean raw score")
    ax.set_title("Reward components (unweighted means)")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return True


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def write_report(bundle: Path, results: dict[str, Any], manifest: dict[str, Any]) -> Path:
    """Write ``report.html`` (and ``plots/*.png``) into ``bundle``; return the page's path."""
    plots = bundle / "plots"
    plots.mkdir(exist_ok=True)
    _plot_success(results, plots / "success.png")
    has_comp = _plot_components(results, plots / "components.png")
    rows = []
    for name, r in results["evals"].items():
        pk = ", ".join(f"pass@{k}={_fmt(v)}" for k, v in r["pass_at_k"].items())
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{r['n_episodes']}</td>"
            f"<td>{_fmt(r['success_rate'])} ± {_fmt(r['success_stderr'])}</td><td>{pk}</td>"
            f"<td>{_fmt(r['reward_mean'])}</td><td>{_fmt(r['error_rate'])}</td>"
            f"<td>{'yes' if r.get('reproducible', True) else 'NO'}</td></tr>"
        )
    comp_img = '<img src="plots/components.png" alt="reward components">' if has_comp else ""
    policy = html.escape(str(manifest.get("policy", {}).get("id", "?")))
    commit = html.escape(str(manifest.get("openenv_harness", {}).get("commit")))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Eval report: {html.escape(results["suite"])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}th{{background:#eee}}img{{max-width:100%}}</style>
</head><body>
<h1>Eval report: {html.escape(results["suite"])}</h1>
<p>Policy: <code>{policy}</code> · openenv_harness commit <code>{commit}</code></p>
<table><tr><th>eval</th><th>episodes</th><th>success rate</th><th>pass@k</th><th>mean reward</th>
<th>error rate</th><th>reproducible</th></tr>
{"".join(rows)}
</table>
<h2>Plots</h2>
<img src="plots/success.png" alt="success rate per eval">
{comp_img}
<p>Errors (environment or policy failures) are counted in the error rate and kept out of success rates.</p>
</body></html>
"""
    path = bundle / "report.html"
    path.write_text(page)
    return path
