"""Notebook widgets: a check verdict with a hint button, a multiple-choice quiz,
and a progress table.

Each is an ipywidgets box whose ``text/plain`` form is a readable fallback, so a
reader without a kernel (GitHub, an untrusted notebook, the terminal) still sees
the verdict, the question or the table, and strict nbval compares that text.
Tested with plain pytest by setting values and clicking buttons, no kernel needed.
"""

from __future__ import annotations

import html
import string
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from patterns.course.state import ProgressRow, progress_text
from patterns.course.verdict import Hint, Verdict


class _TextFallback:
    """Mixin: replace the widget's text/plain repr with a readable text."""

    def fallback_text(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        bundle["text/plain"] = self.fallback_text()
        return bundle


def _verdict_html(verdict: Verdict) -> str:
    colour = "#1a7f37" if verdict.passed else "#b3261e"
    parts = [
        f"<div style='color:{colour};font-weight:bold'>{html.escape(verdict.headline())}</div>"
    ]
    rows = "".join(
        f"<li>{'✓' if result.passed else '✗'} {html.escape(result.behaviour)}"
        f"{f' ({result.cases} cases)' if result.cases > 1 else ''}"
        f"{f'<br><b>Why:</b> <code>{html.escape(result.why)}</code>' if result.why else ''}</li>"
        for result in verdict.behaviours()
    )
    if rows:
        parts.append(f"<ul style='margin:4px 0'>{rows}</ul>")
    printed = verdict.printed()
    if printed:
        parts.append(
            f"<div>Your code printed (last {len(printed)} lines, while failing):</div>"
            f"<pre>{html.escape(chr(10).join(printed))}</pre>"
        )
    return "".join(parts)


class CheckView(_TextFallback, widgets.VBox):  # type: ignore[misc]
    """The verdict of one check, with a "show hint" button while it fails.

    ``next_hint`` reveals the next hint (aimed at the first failing behaviour when
    it has its own); it may return a :class:`Hint` or a ``(number, total, text)`` tuple.
    """

    def __init__(
        self, verdict: Verdict, next_hint: Callable[[], Hint | tuple[int, int, str]]
    ) -> None:
        self.verdict = verdict
        self._next_hint = next_hint
        self.summary = widgets.HTML(_verdict_html(verdict))
        self.hint_button = widgets.Button(description="show hint", icon="lightbulb-o")
        self.hint_area = widgets.HTML("")
        self.hint_button.on_click(lambda _button: self.show_hint())
        children: list[widgets.Widget] = [self.summary]
        if verdict.hint_prompt():
            children += [self.hint_button, self.hint_area]
        super().__init__(children=children)

    def show_hint(self) -> str:
        revealed = self._next_hint()
        hint = revealed if isinstance(revealed, Hint) else Hint(*revealed)
        line = hint.line(self.verdict.exercise)
        self.hint_area.value += f"<div>{html.escape(line)}</div>"
        if hint.last:
            self.hint_button.disabled = True
        return line

    def fallback_text(self) -> str:
        return self.verdict.text()


Option = tuple[str, bool, str]  # (answer, is it correct, why)


class QuizAnswer:
    """The mark of one quiz answer: true when right, shown as "✓ Right. <why>".

    Returned by :meth:`Quiz.answer`, so ``quiz("00.1").answer("c")`` typed in a cell
    (or a terminal) shows the verdict and its explanation without any widget frontend.
    """

    def __init__(self, correct: bool, text: str) -> None:
        self.correct = correct
        self.text = text

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.text


class Quiz(_TextFallback, widgets.VBox):  # type: ignore[misc]
    """A multiple-choice question; every answer explains why it is right or wrong.

    ``Quiz("Which ...?", [("A", False, "No: ..."), ("B", True, "Yes: ...")])``
    """

    def __init__(
        self, question: str, options: Sequence[Option], quiz_id: str | None = None
    ) -> None:
        if len(options) < 2:
            raise ValueError(f"A quiz needs at least two answers, got {len(options)}.")
        if not any(correct for _, correct, _ in options):
            raise ValueError(f"No answer is marked correct in the quiz {question!r}.")
        if len({text for text, _, _ in options}) != len(options):
            raise ValueError(f"Two answers have the same text in the quiz {question!r}.")
        self.question = question
        self.options = list(options)
        self.quiz_id = quiz_id
        self.choice = widgets.RadioButtons(
            options=[text for text, _, _ in options], value=None, layout={"width": "max-content"}
        )
        self.submit = widgets.Button(description="check answer")
        self.feedback = widgets.HTML("")
        self.submit.on_click(lambda _button: self.answer())
        super().__init__(
            children=[
                widgets.HTML(f"<b>{html.escape(question)}</b>"),
                self.choice,
                self.submit,
                self.feedback,
            ]
        )

    def answer(self, choice: str | int | None = None) -> QuizAnswer:
        """Mark an answer (its text, letter or index; default: the selected one).

        The widget's feedback line shows the verdict; so does the returned
        :class:`QuizAnswer`, for a reader without a widget frontend.
        """
        if isinstance(choice, int):
            choice = self.options[choice][0]
        elif (
            isinstance(choice, str)
            and len(choice) == 1
            and choice.lower() in string.ascii_lowercase
        ):
            choice = self.options[string.ascii_lowercase.index(choice.lower())][0]
        if choice is not None:
            self.choice.value = choice
        if self.choice.value is None:
            self.feedback.value = "Pick an answer first."
            return QuizAnswer(False, "Pick an answer first.")
        _, correct, why = next(o for o in self.options if o[0] == self.choice.value)
        verdict = "✓ Right." if correct else "✗ Not quite."
        self.feedback.value = f"{verdict} {html.escape(why)}"
        return QuizAnswer(correct, f"{verdict} {why}")

    def fallback_text(self) -> str:
        lines = [f"Quiz: {self.question}"]
        lines += [
            f"  {letter}) {text}"
            for letter, (text, _, _) in zip(string.ascii_lowercase, self.options, strict=False)
        ]
        call = f'quiz("{self.quiz_id}").answer("a")' if self.quiz_id else '.answer("a")'
        lines.append(f"  (Answer with the buttons in JupyterLab, or run {call} with your letter.)")
        return "\n".join(lines)


class ProgressView(_TextFallback, widgets.VBox):  # type: ignore[misc]
    """Every exercise, passing now or not, passed once or not: the learner's (or
    instructor's) overview."""

    def __init__(self, rows: Sequence[ProgressRow], notices: Sequence[str] = ()) -> None:
        self.rows = list(rows)
        self.notices = list(notices)
        now = sum(row.passes_now for row in self.rows)
        ever = sum(row.ever_passed for row in self.rows)
        self.bar = widgets.IntProgress(value=now, min=0, max=max(len(self.rows), 1))
        table = "".join(
            f"<tr><td>{row.exercise}</td><td>{'✓ ' if row.passes_now else ''}{row.mark}</td>"
            f"<td>{'passed once' if row.ever_passed else ''}</td>"
            f"<td>{html.escape(row.title)}</td><td>{row.hints_shown}/{row.hints_total} hints</td></tr>"
            for row in self.rows
        )
        self.table = widgets.HTML(f"<table>{table}</table>")
        children = [
            widgets.HTML(
                f"<b>{now} of {len(self.rows)} exercises pass now; {ever} passed at least once</b>"
            ),
            self.bar,
            self.table,
        ]
        if self.notices:
            notes = "".join(f"<div>Note: {html.escape(n)}</div>" for n in self.notices)
            children.append(widgets.HTML(notes))
        super().__init__(children=children)

    def fallback_text(self) -> str:
        return "\n".join([progress_text(self.rows), *(f"Note: {n}" for n in self.notices)])
