"""DROID observation keys: the names the envs fill, the policies read and the wire protocol carries."""

from __future__ import annotations

EXTERIOR_CAMERAS: tuple[str, ...] = ("exterior_image_1_left", "exterior_image_2_left")
WRIST_CAMERA = "wrist_image_left"
CAMERAS: tuple[str, ...] = (*EXTERIOR_CAMERAS, WRIST_CAMERA)
"""Every camera key, in the order envs render them and requests list them."""
DEFAULT_CAMERA = EXTERIOR_CAMERAS[0]
"""The exterior view used for ``ego_view`` conditioning and the rollout video."""
STATE_KEYS: tuple[str, ...] = ("joint_position", "gripper_position", "cartesian_position")
DROID_IMAGE_SIZE: tuple[int, int] = (180, 320)
"""(height, width) DROID records its cameras at (RLDS), and every camera's default here."""
