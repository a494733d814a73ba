"""Generate the faithful look's textures and meshes and the object library's geometry
procedurally (numpy only), into the repository's ``envs/``.

Everything the ``faithful`` render preset shows beyond flat colours is made here, by this
project's own code, and committed as small files: wood grain for the table top, a concrete
floor, a plaster wall (PNG under ``envs/textures``) and the bowl's smooth visual mesh (a
revolved profile, OBJ under ``envs/meshes``). So is each library object kind of
``envs/objects/library/catalog.json``: its visual mesh (``envs/meshes/<kind>.obj``; the bowl's is
``library_bowl.obj``) and its MJCF (``envs/objects/library/<kind>.xml``: primitive collision
pieces computed from the same shape, the catalog mass with an inertia from the pieces).
Re-running reproduces the committed files (tests/test_scene_look.py checks it)::

    python -m tools.assets [--out DIR]

Modules: :mod:`.png` (the PNG codec), :mod:`.textures`, :mod:`.mesh` (profiles and surfaces),
:mod:`.pieces` (collision primitives and inertia), the designs (:mod:`.blocks`,
:mod:`.revolved`, :mod:`.banana`, gathered by :mod:`.library`), :mod:`.mjcf` (the MJCF writer)
and :mod:`.files` (every file and how it is made). A new kind is a catalog entry plus a design
function listed in its design module's ``DESIGNS``.
"""
