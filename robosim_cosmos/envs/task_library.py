"""Every task that is data: scene template, goals, instructions by tier.

:data:`BASIC_TASKS` are the original cube tasks (a 5 cm cube, a fixed bowl, a goal square, on
the original table area, with the original success thresholds); :data:`COMPOSITIONAL_TASKS` are
the droid-tabletop suite's tasks of everyday library objects. In the latter, slots are named for
their role: ``a`` is moved, ``b`` (and ``c``) are what it relates to, ``d1``… are distractors.
Instruction words: see :class:`~robosim_cosmos.envs.task_spec.TaskSpec`.
"""

from __future__ import annotations

from .layout import BASIC_LAYOUT
from .predicates import Thresholds
from .task_spec import Goal, InstructionTier, TaskSpec


def _tiers(vague: tuple[str, ...], default: tuple[str, ...], specific: tuple[str, ...]
           ) -> dict[InstructionTier, tuple[str, ...]]:
    return {"vague": vague, "default": default, "specific": specific}


def _put_in(name: str, env_name: str, a: str, b: str, distractors: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name, env_name, (("a", a), ("b", b), *((f"d{i + 1}", k) for i, k in enumerate(distractors))),
        steps=((Goal("in", "a", "b"),),),
        instructions=_tiers(
            ("put the {a_category} away", "tidy up the {a_noun}", "put the {a_category} in the {b_category}"),
            ("put the {a} in the {b_noun}", "place the {a} into the {b}", "put the {a_noun} in the {b}"),
            ("pick up the {a} {a_side} and put it inside the {b} {b_side}",
             "grasp the {a} {a_side}, carry it over the {b} {b_side} and let go",
             "move the {a} {a_side} into the {b} {b_side}, leaving the other objects where they are")),
        max_episode_steps=400)


def _put_on(name: str, env_name: str, a: str, b: str, distractors: tuple[str, ...],
            keep_upright: bool = False) -> TaskSpec:
    goals = (Goal("on", "a", "b"), *((Goal("upright", "a"),) if keep_upright else ()))
    return TaskSpec(
        name, env_name, (("a", a), ("b", b), *((f"d{i + 1}", k) for i, k in enumerate(distractors))),
        steps=(goals,),
        instructions=_tiers(
            ("put the {a_category} on the {b_category}", "set the {a_noun} down somewhere proper",
             "serve the {a_category}"),
            ("put the {a} on the {b_noun}", "place the {a} onto the {b}", "set the {a_noun} on the {b}"),
            ("pick up the {a} {a_side} and set it down upright on the {b} {b_side}",
             "grasp the {a} {a_side}, carry it to the {b} {b_side} and place it on top",
             "move the {a} {a_side} onto the middle of the {b} {b_side} without tipping it")),
        max_episode_steps=400)


def _take_out(name: str, env_name: str, a: str, b: str, distractors: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name, env_name, (("a", a), ("b", b), *((f"d{i + 1}", k) for i, k in enumerate(distractors))),
        steps=((Goal("out_of", "a", "b"),),),
        instructions=_tiers(
            ("empty the {b_category}", "take it out", "get the {a_category} out"),
            ("take the {a} out of the {b_noun}", "remove the {a_noun} from the {b}",
             "take the {a_noun} out of the {b_noun} and put it on the table"),
            ("reach into the {b} {b_side}, pick up the {a} and put it down on the table beside it",
             "grasp the {a} inside the {b} {b_side} and place it on the table outside the {b_noun}",
             "lift the {a} out of the {b} {b_side} and set it on the table")),
        starts_in={"a": "b"},
        max_episode_steps=400)


def _lift(name: str, env_name: str, a: str, distractors: tuple[str, ...], keep_upright: bool) -> TaskSpec:
    goals = (Goal("lifted", "a"), *((Goal("upright", "a"),) if keep_upright else ()))
    return TaskSpec(
        name, env_name, (("a", a), *((f"d{i + 1}", k) for i, k in enumerate(distractors))),
        steps=(goals,),
        instructions=_tiers(
            ("pick it up", "grab the {a_category}", "hold the {a_noun} up"),
            ("pick up the {a}", "lift the {a} off the table", "grab the {a_noun} and raise it"),
            ("grasp the {a} {a_side} with both fingers and lift it at least 5 cm",
             "pick up the {a} {a_side} and hold it in the air",
             "close the gripper on the {a} {a_side} and raise it off the table")),
        max_episode_steps=300)


def _next_to(name: str, env_name: str, a: str, b: str, distractors: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name, env_name, (("a", a), ("b", b), *((f"d{i + 1}", k) for i, k in enumerate(distractors))),
        steps=((Goal("next_to", "a", "b"),),),
        instructions=_tiers(
            ("put the {a_category} with the {b_category}", "group the {a_noun} and the {b_noun}",
             "bring the {a_noun} over"),
            ("put the {a} next to the {b_noun}", "place the {a_noun} beside the {b}",
             "move the {a} next to the {b}"),
            ("pick up the {a} {a_side} and put it down on the table right beside the {b} {b_side}",
             "carry the {a} {a_side} over to the {b} {b_side} and set it down next to it",
             "place the {a} {a_side} on the table within a few centimetres of the {b} {b_side}")),
        max_episode_steps=400)


def _push(name: str, env_name: str, a: str, distractors: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name, env_name, (("a", a), *((f"d{i + 1}", k) for i, k in enumerate(distractors))),
        steps=((Goal("in_region", "a", "region"),),),
        instructions=_tiers(
            ("move the {a_noun} over", "slide it to the goal", "push the {a_category} across"),
            ("push the {a} onto the yellow square", "slide the {a} to the yellow goal",
             "push the {a_noun} into the yellow area"),
            ("without picking it up, push the {a} {a_side} along the table onto the yellow square",
             "slide the {a} {a_side} across the table until it sits inside the yellow square",
             "nudge the {a} {a_side} into the yellow target area, keeping it on the table")),
        region=True, max_episode_steps=400)


BASIC_TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "lift_cube", "DroidLiftCube", (("cube", "cube"),),
        steps=((Goal("lifted", "cube"),),),
        instructions=_tiers(
            ("pick it up", "lift the toy", "grab the block"),
            ("pick up the {cube_colour} cube", "lift the {cube_colour} block off the table",
             "grab the {cube_colour} cube and raise it"),
            ("pick up the {cube_colour} cube {cube_side} of the table and lift it at least 5 cm",
             "grasp the {cube_colour} block {cube_side} with both fingers and raise it off the table",
             "close the gripper on the {cube_colour} cube {cube_side} and hold it up in the air")),
        layout=BASIC_LAYOUT, max_episode_steps=200),
    TaskSpec(
        "cube_in_bowl", "DroidCubeInBowl", (("cube", "cube"), ("bowl", "fixed_bowl")),
        # the centre 1.5 cm inside the bowl's 7.2 cm inner radius, resting within 2 cm of its floor
        steps=((Goal("in", "cube", "bowl", Thresholds(inner_margin_m=0.015, floor_gap_m=0.02)),),),
        instructions=_tiers(
            ("put the toy away", "tidy up the block", "put it in the dish"),
            ("put the {cube_colour} cube in the bowl", "place the {cube_colour} block into the {bowl_colour} bowl",
             "drop the {cube_colour} cube into the {bowl_colour} bowl"),
            ("pick up the {cube_colour} cube {cube_side} and put it inside the {bowl_colour} bowl {bowl_side}",
             "grasp the {cube_colour} block {cube_side}, carry it over the {bowl_colour} bowl {bowl_side} "
             "and let go",
             "place the {cube_colour} cube {cube_side} into the middle of the {bowl_colour} bowl {bowl_side}")),
        layout=BASIC_LAYOUT, max_episode_steps=300),
    TaskSpec(
        "push_cube", "DroidPushCube", (("cube", "cube"),),
        # the centre over the 8 cm square (the one drawn), the underside within 1 cm of the table
        steps=((Goal("in_region", "cube", "region", Thresholds(on_table_m=0.01)),),),
        instructions=_tiers(
            ("move the block over", "push it to the goal", "slide the toy across"),
            ("push the {cube_colour} cube onto the yellow square", "slide the {cube_colour} block to the yellow goal",
             "nudge the {cube_colour} cube into the yellow target area"),
            ("push the {cube_colour} cube {cube_side} across the table until it sits on the yellow square",
             "without picking it up, slide the {cube_colour} block {cube_side} onto the yellow goal",
             "nudge the {cube_colour} cube {cube_side} along the table into the yellow target area")),
        region=True, region_half=0.04, layout=BASIC_LAYOUT, max_episode_steps=300),
)
"""The original cube tasks; the reach task (no object) is :class:`~robosim_cosmos.envs.reach.Reach`."""

COMPOSITIONAL_TASKS: tuple[TaskSpec, ...] = (
    _put_in("block_in_bowl", "DroidBlockInBowl", "block", "bowl", ("mug", "can", "marker")),
    _put_in("banana_in_basket", "DroidBananaInBasket", "banana", "basket", ("cup", "sponge", "block")),
    _put_in("marker_in_basket", "DroidMarkerInBasket", "marker", "basket", ("bottle", "bowl")),
    _put_in("block_in_mug", "DroidBlockInMug", "block", "mug", ("plate", "banana")),
    _put_on("can_on_plate", "DroidCanOnPlate", "can", "plate", ("marker", "sponge", "block"), keep_upright=True),
    _put_on("cup_on_plate", "DroidCupOnPlate", "cup", "plate", ("bowl", "banana"), keep_upright=True),
    _put_on("banana_on_plate", "DroidBananaOnPlate", "banana", "plate", ("mug", "bottle", "block")),
    _put_on("sponge_on_plate", "DroidSpongeOnPlate", "sponge", "plate", ("can", "cup")),
    TaskSpec(
        "stack_blocks", "DroidStackBlocks",
        (("a", "block"), ("b", "block"), ("d1", "block"), ("d2", "block"), ("d3", "mug"), ("d4", "can"),
         ("d5", "marker"), ("d6", "sponge")),
        steps=((Goal("stacked", "a", "b"),),),
        instructions=_tiers(
            ("stack the blocks", "build a tower", "put one block on another"),
            ("stack the {a} on the {b}", "put the {a} on top of the {b}", "place the {a_colour} block on the {b}"),
            ("pick up the {a} {a_side} and stack it squarely on top of the {b} {b_side}",
             "grasp the {a} {a_side}, lift it over the {b} {b_side} and set it down on top",
             "place the {a} {a_side} on the {b} {b_side} so the two form a tower")),
        max_episode_steps=400),
    _lift("lift_bottle", "DroidLiftBottle", "bottle", ("can", "cup"), keep_upright=True),
    _lift("lift_marker", "DroidLiftMarker", "marker", ("block", "sponge", "bowl"), keep_upright=False),
    _lift("lift_banana", "DroidLiftBanana", "banana", ("plate", "mug"), keep_upright=False),
    _next_to("sponge_next_to_mug", "DroidSpongeNextToMug", "sponge", "mug", ("block", "bottle")),
    _next_to("can_next_to_bottle", "DroidCanNextToBottle", "can", "bottle", ("cup", "marker", "banana")),
    _push("push_block", "DroidPushBlock", "block", ("can", "bowl")),
    _push("push_sponge", "DroidPushSponge", "sponge", ("cup", "marker")),
    _take_out("block_out_of_bowl", "DroidBlockOutOfBowl", "block", "bowl", ("can", "sponge")),
    _take_out("banana_out_of_basket", "DroidBananaOutOfBasket", "banana", "basket", ("mug", "block")),
    TaskSpec(
        "stack_three_blocks", "DroidStackThreeBlocks",
        (("a", "block"), ("b", "block"), ("c", "block"), ("d1", "cup")),
        steps=((Goal("stacked", "b", "a"),), (Goal("stacked", "c", "b"),)),
        instructions=_tiers(
            ("build a tower of three", "stack all the blocks", "make a tower"),
            ("stack the {b} on the {a}, then the {c} on the {b}",
             "put the {b} on the {a} and then the {c} on top",
             "build a tower: {a_colour} at the bottom, then {b_colour}, then {c_colour}"),
            ("first put the {b} {b_side} on top of the {a} {a_side}, then stack the {c} {c_side} on the {b}",
             "grasp the {b} {b_side} and place it on the {a} {a_side}; "
             "then grasp the {c} {c_side} and place it on the {b_colour} one",
             "make a three-block tower on the {a} {a_side}: the {b} in the middle and the {c} on top")),
        max_episode_steps=600),
    TaskSpec(
        "block_in_bowl_then_can_on_plate", "DroidBlockInBowlThenCanOnPlate",
        (("a", "block"), ("b", "bowl"), ("c", "can"), ("e", "plate"), ("d1", "marker")),
        steps=((Goal("in", "a", "b"),), (Goal("on", "c", "e"), Goal("upright", "c"))),
        instructions=_tiers(
            ("tidy up the table", "put things where they belong", "clean up the toy and the drink"),
            ("put the {a} in the {b_noun}, then put the {c} on the {e_noun}",
             "place the {a} into the {b}, and then the {c} onto the {e}",
             "first the {a_noun} in the {b_noun}, then the {c_noun} on the {e_noun}"),
            ("pick up the {a} {a_side} and put it in the {b} {b_side}; "
             "then set the {c} {c_side} upright on the {e} {e_side}",
             "first move the {a} {a_side} into the {b} {b_side}, then carry the {c} {c_side} to the {e} {e_side}",
             "put the {a} {a_side} inside the {b} {b_side}, after that place the {c} {c_side} on the {e} {e_side}")),
        max_episode_steps=700),
)
