"""A judge that grades a response against the reference answer (see ``openenv_harness.rubric.JudgeRubric``)."""

from __future__ import annotations

from dataclasses import dataclass

from openenv_harness.rubric import JudgeRubric

REFERENCE_TEMPLATE = (
    "You grade answers. Compare the response with the reference answer.\n\n"
    "Question:\n{question}\n\nReference answer:\n{answer}\n\nResponse:\n{response}\n\n"
    "Give 10 if the response is correct and complete, 0 if it is wrong, partial credit in between.\n"
    'Reply with "Score: <0-10>" on the last line.'
)


class ReferenceJudge(JudgeRubric):
    """A judge whose prompt compares the response with ``context["answer"]`` for ``context["question"]``."""

    @dataclass
    class Config(JudgeRubric.Config):
        """Judge parameters with the reference-grading prompt (all ``JudgeRubric.Config`` fields apply)."""

        prompt_template: str = REFERENCE_TEMPLATE

    config: Config
