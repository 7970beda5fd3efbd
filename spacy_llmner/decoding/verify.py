"""Verification: the model's constrained greedy choice, checked against each row's draft.

One matmul per round over the union of the ids the constraint allows (never the full vocabulary);
the draft is accepted up to the first disagreement, and the model's own choice there becomes the
row's next token. Past that decision the hidden states are computed anyway: where the model
prefers a whole-tag token there, the row keeps it as a hint for its next draft.
"""

from __future__ import annotations

from typing import Any

import torch

from .drafting import Draft
from .rows import Row
from .vocab import Vocab

_NEG = float("-inf")
# Draft positions verified per round (see ``Verifier.__call__``).
ROUND = 6


class Verifier:
    """The output head (weight and bias) and vocabulary that choices are made over."""

    def __init__(self, model: Any, vocab: Vocab) -> None:
        head = model.get_output_embeddings()
        self.weight = head.weight
        self.bias = getattr(head, "bias", None)
        self.device = self.weight.device
        self.vocab = vocab

    def __call__(
        self,
        rows: list[Row | None],
        drafts: list[Draft],
        hidden: torch.Tensor,
        offsets: list[int],
        trees: list[list[int] | None] | None = None,
    ) -> list[tuple[int, bool]]:
        """Check each row's draft against the model's constrained greedy choice; feed what it
        chose. Returns (draft tokens accepted, finished) per row; sets ``row.pending``, and for
        a tree draft (``trees[b]``: its parents) ``row.path``, the nodes accepted.

        Positions are checked in rounds of ``ROUND`` per row, each round one matmul over the
        union of the allowed ids: the allowed set (a walk of the constraint) is computed only
        where a row's draft still stands, not at every draft position (about half are past the
        first disagreement)."""
        verdicts: list[tuple[int, bool]] = [(0, False)] * len(rows)
        decided: dict[int, int] = {}  # row → draft position where the model chose otherwise
        active: dict[int, int] = {}  # row → next position in its draft to check
        for b, r in enumerate(rows):
            if r is not None:
                r.pending = None
                r.path, r.ran_out = None, False
                if trees is not None and trees[b] is not None:
                    verdicts[b] = self._verify_tree(r, drafts[b], trees[b], hidden, offsets[b])  # type: ignore[arg-type]
                else:
                    active[b] = 0
        eos = self.vocab.eos_ids
        while active:
            asks: list[tuple[int, int, list[int]]] = []  # (row, draft position, allowed ids)
            for b, j0 in active.items():
                r = rows[b]
                assert r is not None
                start, ids, states = drafts[b]
                for j in range(j0, min(j0 + ROUND, len(ids) + 1)):
                    s = r.tracker.state if j == 0 else states[j - 1]
                    allowed = r.auto.allowed_ids(s, self.vocab.trie)
                    if r.auto.can_end(s):
                        allowed = sorted(set(allowed) | set(eos))
                    asks.append((b, j, allowed))
                    if j < len(ids) and ids[j] in eos:
                        break
            union = sorted({t for _, _, a in asks for t in a})
            best: list[int] = []
            if union:
                col = {t: i for i, t in enumerate(union)}
                union_t = torch.tensor(union, device=self.device)
                h = hidden[[offsets[b] + drafts[b][0] + j for b, j, _ in asks]]
                logits = (h @ self.weight[union_t].T).float()
                if self.bias is not None:
                    logits = logits + self.bias[union_t].float()
                keep_r = [n for n, (_, _, a) in enumerate(asks) for _ in a]
                keep_c = [col[t] for _, _, a in asks for t in a]
                allowed_mask = torch.full_like(logits, _NEG)
                allowed_mask[keep_r, keep_c] = 0.0
                masked = logits + allowed_mask
                best = masked.argmax(dim=1).tolist()
                logp = torch.log_softmax(masked, dim=1)
            following: dict[int, int] = {}
            n = 0
            while n < len(asks):
                b = asks[n][0]
                r = rows[b]
                assert r is not None
                ids = drafts[b][1]
                accepted, finished, going = verdicts[b][0], False, True
                while n < len(asks) and asks[n][0] == b:
                    _, j, allowed = asks[n]
                    n += 1
                    if not going:
                        continue  # past this row's decision
                    if not allowed:
                        r.tracker.force_finish()
                        finished, going = True, False
                        continue
                    choice = union[best[n - 1]]
                    lp = float(logp[n - 1, best[n - 1]])
                    if choice in eos and r.auto.can_end(r.tracker.state):
                        finished, going = True, False
                        accepted += int(j < len(ids) and ids[j] == choice)
                        continue
                    r.tracker.feed(choice, self.vocab.pieces[choice] or b"", lp)
                    if j < len(ids) and ids[j] == choice:
                        accepted += 1
                        continue
                    r.pending = choice  # the model's own next token: fed in the next pass
                    going = False
                verdicts[b] = (accepted, finished)
                last = asks[n - 1][1]
                if going and last < len(ids):
                    following[b] = last + 1  # every checked position agreed: check on
                elif not finished and r.pending is not None:
                    decided[b] = accepted  # draft position of the model's own choice
            active = following
        self._read_hints(rows, drafts, hidden, offsets, decided)
        return verdicts

    def _verify_tree(
        self, r: Row, draft: Draft, parents: list[int], hidden: torch.Tensor, offset: int
    ) -> tuple[int, bool]:
        """A tree draft (``drafting.draft_tree``): the model's choice at the pending token and at
        every node, in one matmul per node set; then the walk from the root along the children
        the model chose. Each node's hidden state saw exactly its ancestors (``rows.tree_layout``),
        so every choice on the walk is the one step-by-step decoding makes."""
        start, ids, states = draft
        eos = self.vocab.eos_ids
        children: dict[int, dict[int, int]] = {}
        for i, (tid, p) in enumerate(zip(ids, parents)):
            children.setdefault(p, {})[tid] = i
        # The nodes the walk can reach before a leaf: all of them (a small tree).
        nodes = [-1, *range(len(ids))]
        asks: list[list[int]] = []
        for node in nodes:
            s = r.tracker.state if node < 0 else states[node]
            allowed = r.auto.allowed_ids(s, self.vocab.trie)
            if r.auto.can_end(s):
                allowed = sorted(set(allowed) | set(eos))
            asks.append(allowed)
        union = sorted({t for a in asks for t in a})
        choices: dict[int, tuple[int, float]] = {}
        if union:
            col = {t: i for i, t in enumerate(union)}
            union_t = torch.tensor(union, device=self.device)
            h = hidden[[offset + start + (0 if node < 0 else 1 + node) for node in nodes]]
            logits = (h @ self.weight[union_t].T).float()
            if self.bias is not None:
                logits = logits + self.bias[union_t].float()
            keep_r = [n for n, a in enumerate(asks) for _ in a]
            keep_c = [col[t] for a in asks for t in a]
            allowed_mask = torch.full_like(logits, _NEG)
            allowed_mask[keep_r, keep_c] = 0.0
            masked = logits + allowed_mask
            best = masked.argmax(dim=1).tolist()
            logp = torch.log_softmax(masked, dim=1)
            for n, node in enumerate(nodes):
                if asks[n]:
                    choices[node] = (union[best[n]], float(logp[n, best[n]]))
        node = -1
        path: list[int] = []
        while True:
            if node not in choices:  # nothing allowed: no token fits here
                r.tracker.force_finish()
                r.path = path
                return len(path), True
            choice, lp = choices[node]
            kids = children.get(node, {})
            if choice in eos and r.auto.can_end(r.tracker.state):
                r.path = path + ([kids[choice]] if choice in kids else [])
                return len(r.path), True
            r.tracker.feed(choice, self.vocab.pieces[choice] or b"", lp)
            if choice in kids:
                node = kids[choice]
                path.append(node)
                continue
            r.pending = choice
            r.path = path
            r.ran_out = not kids
            return len(path), False

    def _read_hints(
        self,
        rows: list[Row | None],
        drafts: list[Draft],
        hidden: torch.Tensor,
        offsets: list[int],
        decided: dict[int, int],
    ) -> None:
        """Where the draft went on past a row's decision, the model's hidden states there are
        computed anyway: if it prefers a whole-tag token to the draft's copy token at one of
        those positions, note it for the next draft (the next tag is usually where it says,
        though it saw the text without the tag it just chose). A hint only shapes the draft;
        verification decides, so output is unchanged whatever the hints say."""
        tags = self.vocab.whole_tags
        picks: list[tuple[int, int]] = []  # (row, draft position)
        for b, j in decided.items():
            rows[b].hints = {}  # type: ignore[union-attr]
            ids = drafts[b][1]
            picks.extend((b, jj) for jj in range(j + 1, len(ids)) if ids[jj] not in self.vocab.eos_ids)
        if not picks or not tags:
            return
        h = hidden[[offsets[b] + drafts[b][0] + jj for b, jj in picks]]
        tag_t = torch.tensor(tags, device=self.device)
        tag_logits = h @ self.weight[tag_t].T
        copy_ids = torch.tensor([drafts[b][1][jj] for b, jj in picks], device=self.device)
        copy_logits = (h * self.weight[copy_ids]).sum(-1)
        if self.bias is not None:
            tag_logits = tag_logits + self.bias[tag_t]
            copy_logits = copy_logits + self.bias[copy_ids]
        top, which = tag_logits.max(dim=1)
        for (b, jj), wins, t in zip(picks, (top > copy_logits).tolist(), which.tolist()):
            row = rows[b]
            assert row is not None
            if wins:
                before = drafts[b][2][jj - 1].pos  # the state before draft token jj
                row.hints.setdefault(before, tags[t])
