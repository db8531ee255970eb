"""The files ``mode=new_env`` writes, as :class:`string.Template` texts.

Placeholders: ``$name`` (the env id, also its folder), ``$Camel`` (the class-name prefix), ``$package`` (the
import path of the env package: ``envs.<name>`` in a checkout, ``<name>`` in a folder of your own).

The env they make is small but complete — spell a seeded word backwards, one step per episode — so it
passes ``check_env`` as generated and shows each part of the contract in one place: typed action and
observation, a constructor whose bounds are declared, a seed that determines the episode, a rubric whose
components and weights travel in the metadata, ground truth kept in the env, an adapter with a scripted
baseline, and an oracle for the conformance checks.
"""

from __future__ import annotations

from string import Template

INIT = Template('''\
"""$Camel: spell a seeded word backwards (see README.md)."""

from .environment import ${Camel}Environment
from .models import (
    ${Camel}Action,
    ${Camel}Config,
    ${Camel}Observation,
    ${Camel}State,
)

__all__ = [
    "${Camel}Action",
    "${Camel}Config",
    "${Camel}Environment",
    "${Camel}Observation",
    "${Camel}State",
]
''')

MODELS = Template('''\
"""Action, observation, state and reward config of the $name environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from openenv_harness.rubric import RewardConfig
from openenv_harness.spec import Action, Observation, State


class ${Camel}Action(Action):
    """The agent's reply: the word spelled backwards."""

    answer: str = Field(max_length=256, description="The word of the observation, spelled backwards.")


class ${Camel}Observation(Observation):
    """The word to reverse; after the answer, whether it was right.

    Attributes:
        word: The word to spell backwards.
        task_id: Id of the task (derived from the seed).
        correct: After the answer, whether it was right (None before).
    """

    word: str = ""
    task_id: str = ""
    correct: bool | None = None


class ${Camel}State(State):
    """Episode state: the seed and task id (never the answer)."""

    seed: int | None = None
    task_id: str | None = None


@dataclass
class ${Camel}Config(RewardConfig):
    """Reward config: ``reward = weights.correct * correct + weights.format * format``.

    Attributes:
        schema_version: Version of this schema (bump it when the fields change meaning).
        weights: ``correct`` (the word reversed, 0/1) and ``format`` (a single lowercase word, 0/1).
    """

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"correct": 1.0, "format": 0.1})
''')

ENVIRONMENT = Template('''\
"""$Camel: spell a seeded word backwards, one step per episode.

Replace the task (``WORDS``, :meth:`${Camel}Environment.reset`) and the rubric with your own, and keep the
contract: a seed determines the episode; the reward comes from the rubric, with its components and weights in
the observation metadata; ground truth never leaves the env. After changing the code of a released version,
bump ``version`` (the version lock of the shipped envs checks it).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from typing import Annotated, Any

from pydantic import Field

from openenv_harness.rubric import WeightedSum, check_reward_config
from openenv_harness.rubrics.format import RegexMatch
from openenv_harness.rubrics.match import ExactMatch
from openenv_harness.spec import EnvError, Environment, ErrorCode, validated_init

from .models import (
    ${Camel}Action,
    ${Camel}Config,
    ${Camel}Observation,
    ${Camel}State,
)

_WORD_LIST = """
apple bridge candle dragon engine forest garden harbor island jungle kettle lantern meadow needle orange
pepper quartz river silver tunnel violet window yellow zipper cloud stone plant music paper table
"""
WORDS = tuple(_WORD_LIST.split())
"""The words a seed picks from (none is a palindrome, so the word itself is never the answer)."""


def pick_word(seed: int, min_length: int = 3) -> str:
    """The word seed ``seed`` selects among the words of at least ``min_length`` letters."""
    words = [w for w in WORDS if len(w) >= min_length]
    return random.Random(seed).choice(words)


class ${Camel}Environment(Environment[${Camel}Action, ${Camel}Observation]):
    """Spell the word backwards; reward = weights.correct * correct + weights.format * format.

    Args:
        min_length: Shortest word a seed may pick.
    """

    name = "$name"
    description = "Spell a seeded word backwards (scaffolded by mode=new_env)."
    version = "0.1.0"
    action_type = ${Camel}Action
    observation_type = ${Camel}Observation
    state_type = ${Camel}State
    config_type = ${Camel}Config

    @validated_init
    def __init__(self, min_length: Annotated[int, Field(ge=3, le=6)] = 3) -> None:
        super().__init__()
        self.min_length = int(min_length)
        self.rubric = WeightedSum(
            {
                "correct": ExactMatch(target_key="answer", text_field="answer"),
                "format": RegexMatch(pattern=r"[a-z]+", mode="fullmatch", text_field="answer"),
            }
        )
        check_reward_config(self.reward_config, self.rubric)
        self._state = ${Camel}State()
        self._word = ""
        self._done = True

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **task: Any
    ) -> ${Camel}Observation:
        """Pick the word the seed determines (a fresh random seed when none is given)."""
        if task:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR, f"$name takes no task arguments, got {sorted(task)}"
            )
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        self._word = pick_word(seed, self.min_length)
        task_id = hashlib.sha256(f"$name:{seed}".encode()).hexdigest()[:12]
        self.rubric.reset(context={"answer": self._word[::-1]})  # ground truth: for the rubric only
        self._state = ${Camel}State(
            episode_id=episode_id or uuid.uuid4().hex, step_count=0, seed=seed, task_id=task_id
        )
        self._done = False
        meta = self.base_metadata()
        meta.update(task_id=task_id, seed=seed)
        return ${Camel}Observation(word=self._word, task_id=task_id, metadata=meta)

    def step(self, action: ${Camel}Action, timeout_s: float | None = None) -> ${Camel}Observation:
        """Score the answer; the episode ends after this one step."""
        if not self._word:
            raise EnvError(ErrorCode.NOT_RESET, "$name: call reset before step")
        if self._done:
            raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
        self._state.step_count += 1
        self._done = True
        obs = ${Camel}Observation(word=self._word, task_id=self._state.task_id or "", done=True)
        result = self.rubric.score(action, obs, weights=self.reward_config.weights)
        obs.correct = result.components.get("correct", 0.0) >= 1.0
        obs.reward = result.reward
        obs.metadata = {
            **self.base_metadata(),
            "task_id": self._state.task_id,
            "seed": self._state.seed,
            **result.to_metadata(),
        }
        return obs

    @property
    def state(self) -> ${Camel}State:
        """Current episode state."""
        return self._state
''')

ADAPTER = Template('''\
"""How the harness talks to the $name env: the word as the prompt, the reply as the answer."""

from __future__ import annotations

from typing import Any

from openenv_harness.rollout import TextAdapter


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Answers with the word unchanged: well formed and wrong (``policy=scripted``'s baseline, not the oracle)."""
    return str(obs.get("word", ""))


ADAPTER = TextAdapter(
    env_id="$name",
    system_prompt="Spell the given word backwards. Reply with that one word only.",
    action_field="answer",
    prompt_fields=("word",),
    baseline=baseline,
    success_component="correct",
)
''')

ORACLE = Template('''\
"""Reference policies of $name for the conformance checks (``openenv_harness.checks``).

* ``hidden`` is the ground truth of the episode a seed selects: it must never appear in an observation;
* ``oracle_action`` answers right (the maximum reward);
* ``null_action`` does nothing (an empty answer; its reward must stay well below the maximum).
"""

from __future__ import annotations

from typing import Any

from .environment import pick_word


def hidden(seed: int, **task: Any) -> dict[str, Any]:
    """The answer of the episode ``seed`` selects (with the default ``min_length``)."""
    return {"answer": pick_word(seed)[::-1]}


def oracle_action(observation: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    """The right answer."""
    return {"answer": hidden["answer"]}


def null_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: an empty answer."""
    return {"answer": ""}
''')

README = Template("""\
# $name

Scaffolded by `python -m openenv_harness mode=new_env name=$name`: a small, complete environment that passes
`check_env` as generated. The task (spell a seeded word backwards, one step) is a placeholder: replace it.

| file | what it holds |
| --- | --- |
| `models.py` | action, observation, state (pydantic) and the reward config (weights per component) |
| `environment.py` | the env: constructor with declared bounds, `reset(seed=...)`, `step`, the rubric |
| `adapter.py` | how the harness talks to it: prompt fields, reply field, scripted baseline, success component |
| `oracle.py` | ground truth (`hidden`), the oracle and the null policy for the conformance checks |
| `$tests_path` | `check_env` on the class and served, the declared bounds, the oracle and the baseline |
| `$conf_path` | the Hydra entry (`env=$name`) and its schedule (none) |

Reward: `weights.correct * correct + weights.format * format` (`correct`: the word reversed; `format`: one
lowercase word). Weights are steerable at run time (`POST /config`, `rubric.weights.format=0.5`).

```bash
pytest $tests_path                               # the contract, bare and served
python -m openenv_harness.server --env $name            # serve it (once registered)
python -m openenv_harness env=$name policy=scripted learner=collect$config_dir
```

Registration: the harness and its servers find envs by id. $registration

Versions: `version` in `environment.py` is served at `/metadata` and recorded in bundles and episodes.
Once the env ships in this repository, `python -m openenv_harness.checks.lock --update` records its source
hash, and from then on a code change needs a version bump (`tests/unit/checks/test_versions_lock.py`).
""")

TESTS = Template('''\
"""The $name env keeps the contract: conformance (bare and served), bounds, oracle, baseline."""

from __future__ import annotations

import pytest

from $package import (
    ${Camel}Action,
    ${Camel}Environment,
    oracle,
)
from $package.adapter import ADAPTER
from openenv_harness.checks import check_env
from openenv_harness.runtime import InProcessProvider


def test_contract_bare() -> None:
    check_env(${Camel}Environment, oracle=oracle).raise_for_failures()


def test_contract_served() -> None:
    with InProcessProvider(${Camel}Environment) as provider:
        check_env(provider, oracle=oracle).raise_for_failures()


def test_constructor_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="^min_length: 99 is not valid"):
        ${Camel}Environment(min_length=99)


def test_oracle_wins_and_the_baseline_is_a_well_formed_wrong_answer() -> None:
    env = ${Camel}Environment()
    first = env.reset(seed=7)
    best = env.step(${Camel}Action.model_validate(oracle.oracle_action({}, oracle.hidden(7))))
    assert best.correct and best.reward == pytest.approx(1.1)
    assert best.metadata["reward_components"] == {"correct": 1.0, "format": 1.0}
    env.reset(seed=7)
    reply = ADAPTER.baseline(first.model_dump(mode="json"), [])
    wrong = env.step(${Camel}Action(answer=reply))
    assert not wrong.correct and wrong.reward == pytest.approx(0.1)
''')

CONF_ENV = Template("""\
# $Camel (scaffolded): spell a seeded word backwards.
#   python -m openenv_harness env=$name policy=scripted learner=collect
id: $name
kwargs:
  min_length: 3
max_turns: 1
""")

CONF_SCHEDULE = Template("""\
# Default schedule for env=$name: none (weights stay what rubric/POST /config set).
targets: {}
""")
