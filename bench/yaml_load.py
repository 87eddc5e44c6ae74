"""Time front-matter loading: PyYAML's C loader as Postil used it, against
``builder.yamlsafe.load_yaml`` (the same C loader, with alias, expansion and
depth limits), on a generated corpus; then the hostile documents.

    python bench/yaml_load.py [--articles N] [--rounds R]

Prints microseconds per document (the best of R rounds, CPU time).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_site  # noqa: E402

from builder.yamlsafe import YamlError, load_yaml  # noqa: E402


def plain(text: str, first_line: int = 1) -> object:
    """The loading before the limits: the C loader, composed and constructed."""
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def best(load, texts: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        for text in texts:
            load(text, 2)
        times.append((time.process_time() - started) / len(texts) * 1e6)
    return min(times)


def front_matters(articles: int) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        generate_site(articles, Path(folder))
        texts = []
        for path in sorted((Path(folder) / "content").rglob("*.md")):
            lines = path.read_text(encoding="utf-8").split("\n")
            end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
            texts.append("\n".join(lines[1:end]) + "\n")
        return texts


def bomb(levels: int) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ",".join(
            [f"*{'a' if level == 1 else f'l{level - 1}'}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    texts = front_matters(args.articles)
    print(f"{len(texts)} front matters, {sum(map(len, texts)) // len(texts)} characters each")
    print(f"  C loader as before: {best(plain, texts, args.rounds):7.1f} us")
    print(f"  load_yaml:          {best(load_yaml, texts, args.rounds):7.1f} us")
    anchored = "base: &base {a: 1, b: [1, 2, 3]}\n" + "".join(
        f"k{i}: {{<<: *base, c: {i}}}\n" for i in range(50))
    print("a document with an anchor and 50 merges (walked for aliases)")
    print(f"  C loader as before: {best(plain, [anchored], args.rounds * 10):7.1f} us")
    print(f"  load_yaml:          {best(load_yaml, [anchored], args.rounds * 10):7.1f} us")
    for name, text in (("billion laughs, 9 levels", bomb(9)),
                       ("nested 100,000 deep", "x: " + "[" * 100_000 + "]" * 100_000)):
        started = time.perf_counter()
        try:
            load_yaml(text)
            outcome = "loaded"
        except YamlError as exc:
            outcome = f"line {exc.line}: {exc.message[:60]}…"
        print(f"{name}: {(time.perf_counter() - started) * 1e3:.1f} ms, {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
