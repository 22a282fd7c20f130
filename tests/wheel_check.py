"""An installed gkllm, not the checkout, runs hybrid mode: build the wheel, install it into a fresh
venv, run ``gkllm extract`` against the scripted LLM server (tests/fake_llm.py).

Fast and offline: the wheel is built without build isolation, installed with ``--no-deps``, and
the fresh venv sees the current environment's site-packages through a ``.pth`` line (the lines of a
``.pth`` are only appended to sys.path; the editable install's own ``.pth`` hooks in that folder are
not run, so ``import gkllm`` finds the wheel's copy).

Used by tests/test_wheel.py and, once per run, by .ci/run: ``python -m tests.wheel_check``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

try:
    from .fake_llm import FakeLLM
except ImportError:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fake_llm import FakeLLM  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
# part 4 prints 14 of its 15 zeros: the parser leaves it null, so hybrid asks the LLM (and loads its prompts)
SAMPLE = ROOT / "eval" / "cases" / "real" / "pingtan-dept-04-lopdftotext.txt"


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


def check(work: Path) -> dict[str, object]:
    dist, venv = work / "dist", work / "venv"
    built = _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                  "-w", str(dist)])
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(dist.glob("gkllm-*.whl"))
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_gkllm_deps.pth").write_text("\n".join(sorted(here)) + "\n", encoding="utf-8")
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-2000:]
    where = _run([str(python), "-c", "import gkllm; print(gkllm.__file__)"], cwd=str(work))
    assert where.returncode == 0 and where.stdout.strip().startswith(str(site)), (where.stdout, where.stderr)
    with FakeLLM() as fake:
        fake.default = {"json": {"review": [0] * 15}}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GKLLM_", "OPENAI_"))}
        env.update(GKLLM_BASE_URL=fake.base_url, GKLLM_MODEL="fake", GKLLM_CACHE_DIR=str(work / "cache"))
        proc = _run([str(venv / "bin" / "gkllm"), "extract", "--mode", "hybrid", "--flat", str(SAMPLE)],
                    cwd=str(work), env=env)
        asked = len(fake.requests)
        prompt = fake.requests[0]["messages"][-1]["content"] if fake.requests else ""
    assert proc.returncode == 0, proc.stderr[-2000:]
    flat = json.loads(proc.stdout)
    assert asked == 1 and "<report>" in prompt, (asked, proc.stderr[-2000:])  # the packaged prompts were read
    assert flat["review.reconsideration.total"] == 0 and flat["requests.new.total"] is not None
    return {"wheel": wheel.name, "gkllm": where.stdout.strip(), "llm_requests": asked,
            "values": sum(v is not None for k, v in flat.items() if not k.startswith("meta."))}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gkllm-wheel-") as tmp:
        result = check(Path(tmp))
    print(f"wheel check: {result['wheel']} installed in a fresh venv ({result['gkllm']}); hybrid extract exit 0, "
          f"{result['values']} values, {result['llm_requests']} LLM request(s) to the scripted server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
