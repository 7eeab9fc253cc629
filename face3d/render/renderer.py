"""HeadRenderer: draws a Rig with its blendshapes applied in the vertex shader.

It is handed a moderngl context and never creates one. Vertices that no shape moves are
placed after those that shapes move and carry slot -1, so the vertex shader does no
blendshape work for them; shapes at weight 0 are skipped too.

:meth:`HeadRenderer.set_pose` turns the whole head about its neck pivot (the model
matrix) and the eyeballs the rig knows (``rig.info['eyes']``) about their centres (in the
vertex shader); it takes plain angles in degrees (:data:`~face3d.render.pose.POSE_NAMES`).
"""

from __future__ import annotations

import numpy as np

from face3d.assets import shader_source
from face3d.mesh.rig import Rig
from face3d.render.pose import POSE_NAMES, eye_groups, eye_rotation, head_rotation, model_matrix, neck_pivot

GLSL_VERSION = "#version 330 core"
_DELTA_WIDTH = 2048

#: Lights in view space: direction TO the light, and colour (linear RGB).
LIGHTS = {
    "u_key_dir": (-0.55, 0.55, 0.63),     # upper left, in front: three-quarter key
    "u_key_color": (1.05, 0.97, 0.90),
    "u_fill_dir": (0.75, 0.05, 0.55),     # right, level: soft cool fill
    "u_fill_color": (0.28, 0.32, 0.40),
    "u_rim_dir": (0.3, 0.5, -1.0),        # behind
    "u_rim_color": (0.35, 0.38, 0.45),
    "u_sky_color": (0.16, 0.17, 0.20),
    "u_ground_color": (0.07, 0.06, 0.06),
}

BACKGROUND = (0.15, 0.16, 0.19)

_VERTEX_DTYPE = np.dtype(
    [
        ("position", "f4", 3),
        ("normal", "f4", 3),
        ("color", "f4", 3),
        ("gloss", "f4"),
        ("uv", "f4", 2),
        ("slot", "i4"),
        ("eye", "i4"),
    ]
)
_VERTEX_FORMAT = "3f 3f 3f 1f 2f 1i 1i"
_ATTRIBUTES = ("in_position", "in_normal", "in_color", "in_gloss", "in_uv", "in_slot", "in_eye")


def shader_sources(n_shapes: int, textured: bool = False, cutout: bool = False) -> tuple[str, str]:
    """Vertex and fragment source with the version line and the NUM_SHAPES/HAS_TEXTURE
    (/ALPHA_CUTOUT: texels with alpha under one half are not drawn) defines."""
    defines = ("#define HAS_TEXTURE\n" if textured else "") + ("#define ALPHA_CUTOUT\n" if textured and cutout else "")
    vs = f"{GLSL_VERSION}\n#define NUM_SHAPES {max(int(n_shapes), 1)}\n{defines}"
    fs = f"{GLSL_VERSION}\n{defines}"
    return vs + shader_source("head.vert"), fs + shader_source("head.frag")


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """sRGB colour in [0, 1] to linear RGB with gamma 2.0, the inverse of the shader's sqrt encode."""
    c = np.clip(c, 0.0, 1.0)
    return (c * c).astype(np.float32)


class HeadRenderer:
    """Draw one rig.  ``ctx``: a moderngl.Context made by the caller (window or EGL)."""

    def __init__(self, ctx, rig: Rig, *, cull: bool | None = None):
        self.ctx = ctx
        self.rig = rig
        # Back-face culling halves the fragment work of a closed, consistently wound mesh;
        # open or inconsistently wound meshes are drawn double-sided.
        self.cull = (not rig.double_sided) if cull is None else cull
        v = rig.n_vertices
        k = rig.n_shapes

        # Moved vertices first: vertex order -> renderer order.
        moved = rig.moved_mask()
        order = np.concatenate([np.flatnonzero(moved), np.flatnonzero(~moved)])
        self.order = order                      # renderer vertex i is rig vertex order[i]
        self.n_moved = int(moved.sum())
        inverse = np.empty(v, np.int64)
        inverse[order] = np.arange(v)

        vertices = np.zeros(v, _VERTEX_DTYPE)
        vertices["position"] = rig.positions[order]
        vertices["normal"] = rig.normals[order]
        vertices["color"] = srgb_to_linear(rig.colors[order])
        vertices["gloss"] = rig.gloss[order]
        if rig.uvs is not None:
            vertices["uv"] = rig.uvs[order]
        slots = np.full(v, -1, np.int32)
        slots[: self.n_moved] = np.arange(self.n_moved, dtype=np.int32)
        vertices["slot"] = slots
        # eyeballs: 1 or 2 (turned by u_eye_rot about u_eye_center[i - 1]), 0 for the rest
        self.eyes = eye_groups(rig)
        eye_of = np.zeros(v, np.int32)
        for i, (_, idx) in enumerate(self.eyes):
            eye_of[idx] = i + 1
        vertices["eye"] = eye_of[order]
        self.pivot = neck_pivot(rig)

        # Delta texture: for each moved vertex, for each shape, (position, normal) texels.
        texels = np.zeros((max(self.n_moved, 1), max(k, 1), 2, 4), np.float32)
        if k and self.n_moved:
            sel = order[: self.n_moved]
            texels[:, :k, 0, :3] = rig.deltas[:, sel].transpose(1, 0, 2)
            texels[:, :k, 1, :3] = rig.normal_deltas[:, sel].transpose(1, 0, 2)
        flat = texels.reshape(-1, 4)
        width = min(_DELTA_WIDTH, len(flat))
        height = -(-len(flat) // width)
        padded = np.zeros((width * height, 4), np.float32)
        padded[: len(flat)] = flat
        self.delta_texture = ctx.texture((width, height), 4, padded.tobytes(), dtype="f4")
        self.delta_texture.filter = (ctx.NEAREST, ctx.NEAREST)
        self.delta_texture.repeat_x = self.delta_texture.repeat_y = False
        self._delta_width = width

        self.vbo = ctx.buffer(vertices.tobytes())
        self.ibo = ctx.buffer(inverse[rig.faces.astype(np.int64)].astype(np.uint32).tobytes())
        self.n_indices = rig.faces.size

        self.texture = None
        if rig.texture is not None and rig.uvs is not None:
            img = np.ascontiguousarray(np.asarray(rig.texture, np.uint8)[::-1])  # GL origin: bottom row
            comps = img.shape[2] if img.ndim == 3 else 1
            self.texture = ctx.texture((img.shape[1], img.shape[0]), comps, img.tobytes())
            self.texture.build_mipmaps()
            self.texture.filter = (ctx.LINEAR_MIPMAP_LINEAR, ctx.LINEAR)

        self.program = self.make_program()
        self.vao = ctx.vertex_array(
            self.program, [(self.vbo, _VERTEX_FORMAT, *_ATTRIBUTES)], self.ibo, skip_errors=True
        )
        self._weights = np.zeros(max(k, 1), np.float32)
        self.model = np.eye(4, dtype=np.float32)
        self.pose = dict.fromkeys(POSE_NAMES, 0.0)
        self._eye_rot = np.eye(3, dtype=np.float32)

    # ------------------------------------------------------------------ setup
    def make_program(self, varyings=None):
        """Compile the head program; with ``varyings`` a vertex-only program for transform feedback."""
        cutout = bool((self.rig.info or {}).get("alpha_cutout")) and self.texture is not None \
            and np.asarray(self.rig.texture).ndim == 3 and np.asarray(self.rig.texture).shape[2] == 4
        vs, fs = shader_sources(self.rig.n_shapes, textured=self.texture is not None, cutout=cutout)
        if varyings:
            prog = self.ctx.program(vertex_shader=vs, varyings=list(varyings))
        else:
            prog = self.ctx.program(vertex_shader=vs, fragment_shader=fs)
        self._set(prog, "u_delta_width", self._delta_width)
        centres = np.zeros((2, 3), np.float32)
        for i, (c, _) in enumerate(self.eyes):
            centres[i] = c
        self._write(prog, "u_eye_center", centres)
        self._set(prog, "u_deltas", 0)
        self._set(prog, "u_texture", 1)
        for name, value in LIGHTS.items():
            if name.endswith("_dir"):
                value = tuple(float(x) for x in np.asarray(value) / np.linalg.norm(value))
            self._set(prog, name, value)
        return prog

    @staticmethod
    def _set(prog, name, value):
        member = prog.get(name, None)
        if member is not None:
            member.value = value

    @staticmethod
    def _write(prog, name, array):
        member = prog.get(name, None)
        if member is not None:
            member.write(np.ascontiguousarray(array, dtype=np.float32).tobytes())

    # ------------------------------------------------------------------ state
    def set_weights(self, weights) -> None:
        """weights: (K,) array or {name: value}; values outside [0, 1] are clipped."""
        if self.rig.n_shapes == 0:
            return
        self._weights[:] = np.clip(self.rig.weight_vector(weights), 0.0, 1.0)

    def _look_weights(self) -> dict:
        """{shape index: weight} of a VRM's look expressions for the eye angles (lookAt of
        type expression: weight = min(angle, input max) / input max * output scale)."""
        spec = (self.rig.info or {}).get("look_expressions")
        if not spec or self.eyes:
            return {}
        yaw, pitch = self.pose["eyeYaw"], self.pose["eyePitch"]

        def ramp(angle, key):
            imax, scale = spec.get(key, (90.0, 1.0))
            return float(np.clip(min(abs(angle), imax) / max(imax, 1e-6) * scale, 0.0, 1.0))
        want = {"lookLeft": ramp(yaw, "horizontal") if yaw > 0 else 0.0,
                "lookRight": ramp(yaw, "horizontal") if yaw < 0 else 0.0,
                "lookUp": ramp(pitch, "up") if pitch > 0 else 0.0,
                "lookDown": ramp(pitch, "down") if pitch < 0 else 0.0}
        return {self.rig.names.index(n): w for n, w in want.items() if n in self.rig.names}

    def set_pose(self, pose=None, **angles) -> None:
        """Head and eye angles in degrees: a {name: degrees} dict and/or keywords with the
        names of :data:`~face3d.render.pose.POSE_NAMES`; names not given keep their value.
        Sets :attr:`model` (the head about its neck pivot) and the eyeballs' rotation."""
        for name, value in {**(pose or {}), **angles}.items():
            if name in self.pose:
                self.pose[name] = float(value)
        p = self.pose
        rot = head_rotation(p["headPitch"], p["headYaw"], p["headRoll"])
        self.model = model_matrix(rot, self.pivot)
        self._eye_rot = eye_rotation(p["eyeYaw"], p["eyePitch"]).astype(np.float32)

    @property
    def weights(self) -> np.ndarray:
        return self._weights[: self.rig.n_shapes].copy()

    def _bind(self, prog, view, proj):
        weights = self._weights
        look = self._look_weights()
        if look:  # gaze through the avatar's look expressions, on top of the track's weights
            weights = weights.copy()
            for i, w in look.items():
                weights[i] = max(weights[i], w)
        self._write(prog, "u_weights", weights)
        self._write(prog, "u_eye_rot", self._eye_rot.T)   # GLSL mat3 is column-major
        # pyrr matrices are row-vector style: model then view is model @ view
        modelview = np.asarray(self.model, np.float32) @ np.asarray(view, np.float32)
        self._write(prog, "u_modelview", modelview)
        self._write(prog, "u_proj", proj)
        self.delta_texture.use(0)
        if self.texture is not None:
            self.texture.use(1)

    # ------------------------------------------------------------------ drawing
    def draw(self, view, proj, vao=None) -> None:
        """Draw into the currently bound framebuffer with depth testing (``vao``: a
        :meth:`faces_array` to draw only some triangles)."""
        self._bind(self.program, view, proj)
        flags = self.ctx.DEPTH_TEST | (self.ctx.CULL_FACE if self.cull else 0)
        self.ctx.enable_only(flags)
        (vao or self.vao).render(self.ctx.TRIANGLES)

    def draw_camera(self, camera, aspect: float, vao=None) -> None:
        self.draw(camera.view(aspect), camera.projection(aspect), vao)

    def faces_array(self, faces: np.ndarray):
        """A vertex array drawing only ``faces`` ((F, 3) rig vertex indices); the caller releases it."""
        inverse = np.empty(self.rig.n_vertices, np.int64)
        inverse[self.order] = np.arange(self.rig.n_vertices)
        ibo = self.ctx.buffer(inverse[np.asarray(faces, np.int64)].astype(np.uint32).tobytes())
        vao = self.ctx.vertex_array(self.program, [(self.vbo, _VERTEX_FORMAT, *_ATTRIBUTES)], ibo, skip_errors=True)
        return vao, ibo

    def transform(self, weights=None) -> tuple[np.ndarray, np.ndarray]:
        """Run the real vertex shader through transform feedback.

        Returns deformed (positions, normals), each (V, 3), in the rig's vertex order,
        with the current model matrix applied. For testing the shader against Rig.apply.
        """
        if weights is not None:
            self.set_weights(weights)
        prog = self.make_program(varyings=["v_position", "v_normal"])
        vao = self.ctx.vertex_array(prog, [(self.vbo, _VERTEX_FORMAT, *_ATTRIBUTES)], skip_errors=True)
        out = self.ctx.buffer(reserve=self.rig.n_vertices * 6 * 4)
        eye4 = np.eye(4, dtype=np.float32)
        self._bind(prog, eye4, eye4)
        # A surfaceless EGL context draws nothing without a complete framebuffer bound.
        scratch = self.ctx.simple_framebuffer((1, 1))
        scratch.use()
        vao.transform(out, self.ctx.POINTS, vertices=self.rig.n_vertices)
        # Give drawing back to the default framebuffer (a window's screen) before releasing.
        (self.ctx.screen or self.ctx.detect_framebuffer(0)).use()
        data = np.frombuffer(out.read(), np.float32).reshape(-1, 6)
        for obj in (out, vao, prog, scratch):
            obj.release()
        result = np.empty_like(data)
        result[self.order] = data
        return result[:, :3].copy(), result[:, 3:].copy()

    def release(self) -> None:
        for obj in (self.vao, self.program, self.vbo, self.ibo, self.delta_texture, self.texture):
            if obj is not None:
                obj.release()
