"""On-screen display: Dear ImGui (imgui-bundle) drawn through moderngl-window's integration.

One small, non-interactive window in the top-left corner: the source, the play state and
media time, frames per second, the input level meter, one bar per shape weight, the
capture delay in microphone mode, and any problem notices (in orange). ``H`` toggles it.
"""

from __future__ import annotations

import math

NOTICE_COLOR = (1.0, 0.62, 0.25, 1.0)
BAR_W = 150.0                     # pixels of each level and weight bar


def _renderer_class():
    """moderngl-window's imgui-bundle renderer, taught the texture protocol of Dear ImGui 1.92+
    (imgui-bundle >= 1.92: the backend creates and updates the font atlas texture itself,
    ``RendererHasTextures``), which moderngl-window 3.1's integration predates."""
    import ctypes

    import moderngl
    import numpy as np
    from imgui_bundle import imgui
    from moderngl_window.integrations.imgui_bundle import ModernglWindowRenderer

    new_protocol = not hasattr(imgui.ImFontAtlas, "get_tex_data_as_rgba32")

    class Renderer(ModernglWindowRenderer):
        def __init__(self, wnd):
            self._own = {}
            if new_protocol:
                io = imgui.get_io()
                io.backend_flags |= imgui.BackendFlags_.renderer_has_textures
                pio = imgui.get_platform_io()
                pio.renderer_texture_max_width = pio.renderer_texture_max_height = 4096
            super().__init__(wnd)

        def refresh_font_texture(self):
            if not new_protocol:
                return super().refresh_font_texture()

        def _update_texture(self, tex) -> None:
            status = tex.status
            if status in (imgui.ImTextureStatus.want_create, imgui.ImTextureStatus.want_updates):
                pixels = np.ascontiguousarray(tex.get_pixels_array(), dtype=np.uint8)
                gl_tex = self._own.get(tex.tex_id) if status == imgui.ImTextureStatus.want_updates else None
                if gl_tex is None or gl_tex.size != (tex.width, tex.height):
                    gl_tex = self.ctx.texture((tex.width, tex.height), 4, pixels.tobytes())
                    gl_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
                    gl_tex.repeat_x = gl_tex.repeat_y = False
                    self._own[gl_tex.glo] = gl_tex
                    self.register_texture(gl_tex)
                    tex.set_tex_id(gl_tex.glo)
                else:
                    gl_tex.write(pixels.tobytes())
                tex.status = imgui.ImTextureStatus.ok
            elif status == imgui.ImTextureStatus.want_destroy:
                gl_tex = self._own.pop(tex.tex_id, None)
                if gl_tex is not None:
                    self.remove_texture(gl_tex)
                    gl_tex.release()
                tex.set_tex_id(0)
                tex.status = imgui.ImTextureStatus.destroyed

        def render(self, draw_data):
            if not new_protocol:
                return super().render(draw_data)
            for tex in imgui.get_platform_io().textures:
                if tex.status != imgui.ImTextureStatus.ok:
                    self._update_texture(tex)
            io = self.io
            dw, dh = io.display_size
            sx, sy = io.display_framebuffer_scale
            fb_w, fb_h = int(dw * sx), int(dh * sy)
            if fb_w <= 0 or fb_h <= 0:
                return
            self.projMat.value = (2.0 / dw, 0, 0, 0, 0, -2.0 / dh, 0, 0, 0, 0, -1.0, 0, -1.0, 1.0, 0, 1.0)
            draw_data.scale_clip_rects(imgui.ImVec2(sx, sy))
            self.ctx.enable_only(moderngl.BLEND)
            self.ctx.blend_equation = moderngl.FUNC_ADD
            self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
            for commands in draw_data.cmd_lists:
                vsize = commands.vtx_buffer.size() * imgui.VERTEX_SIZE
                isize = commands.idx_buffer.size() * imgui.INDEX_SIZE
                if vsize > self._vertex_buffer.size:
                    self._vertex_buffer.orphan(vsize * 2)
                if isize > self._index_buffer.size:
                    self._index_buffer.orphan(isize * 2)
                self._vertex_buffer.write((ctypes.c_byte * vsize).from_address(commands.vtx_buffer.data_address()))
                self._index_buffer.write((ctypes.c_byte * isize).from_address(commands.idx_buffer.data_address()))
                for command in commands.cmd_buffer:
                    texture = self._textures.get(command.tex_ref.get_tex_id())
                    if texture is None:
                        continue
                    texture.use(0)
                    x, y, z, w = command.clip_rect
                    self.ctx.scissor = int(x), int(fb_h - w), int(z - x), int(w - y)
                    self._vao.render(moderngl.TRIANGLES, vertices=command.elem_count, first=command.idx_offset)
            self.ctx.scissor = None

        def shutdown(self):
            if new_protocol:
                for gl_tex in self._own.values():
                    gl_tex.release()
                self._own.clear()
                self._font_texture = None
                for obj in (self._vertex_buffer, self._index_buffer, self._vao, self._prog):
                    if obj is not None:
                        obj.release()
                return
            super().shutdown()

    return Renderer


class OSD:
    def __init__(self, wnd):
        from imgui_bundle import imgui

        self.imgui = imgui
        self.context = imgui.create_context()
        ModernglWindowRenderer = _renderer_class()
        io = imgui.get_io()
        io.set_ini_filename("")          # never write imgui.ini into the user's folder
        io.set_log_filename("")
        self.renderer = ModernglWindowRenderer(wnd)
        self.visible = True
        self.wnd = wnd
        self.layout: dict = {}

    def resize(self, width: int, height: int) -> None:
        self.renderer.resize(width, height)

    def draw(self, frame_time: float, info: dict) -> None:
        """Draw the panel for one frame. ``info``: source, state, fps, level_db (and
        ``meter``, words for the meter in place of the level: "paused", "ended"), weights
        [(name, value)], delay, record, notices, note (dim), keys.

        Labels take a column as wide as the widest of them, the bars the next, and their
        numbers a third to the right of the bars (never over them); longer lines wrap at
        the panel's width. :attr:`layout` keeps the rectangles imgui laid out (window,
        labels, bars, numbers, lines), in window pixels, for tests."""
        if not self.visible:
            return
        imgui = self.imgui
        io = imgui.get_io()
        io.delta_time = max(frame_time, 1e-4)
        imgui.new_frame()
        flags = (imgui.WindowFlags_.no_decoration | imgui.WindowFlags_.always_auto_resize
                 | imgui.WindowFlags_.no_inputs | imgui.WindowFlags_.no_saved_settings
                 | imgui.WindowFlags_.no_focus_on_appearing | imgui.WindowFlags_.no_nav)
        imgui.set_next_window_pos(imgui.ImVec2(8, 8))
        imgui.set_next_window_bg_alpha(0.55)
        imgui.begin("face3d", None, flags)
        style = imgui.get_style()
        gap = style.item_spacing.x
        level = info.get("level_db", -100.0)
        frac = min(1.0, max(0.0, (level + 60.0) / 60.0)) if math.isfinite(level) else 0.0
        meter = info.get("meter") or (f"{level:.1f} dBFS" if math.isfinite(level) and level > -99 else "silent")
        rows = [("input", frac, meter)] + [
            (name, float(min(1.0, max(0.0, value))), f"{value:.2f}") for name, value in info.get("weights", ())]
        label_w = max(imgui.calc_text_size(r[0]).x for r in rows)
        number_w = max(imgui.calc_text_size(t).x for t in ("-99.9 dBFS", "paused", "ended", *(r[2] for r in rows)))
        x_bar = style.window_padding.x + label_w + gap
        x_number = x_bar + BAR_W + gap
        keys = info.get("keys", "H hide  R view  Q quit")
        width = max(label_w + gap + BAR_W + gap + number_w, imgui.calc_text_size(keys).x)
        lay = {"labels": [], "bars": [], "numbers": [], "lines": []}

        def rect():
            a, b = imgui.get_item_rect_min(), imgui.get_item_rect_max()
            return (a.x, a.y, b.x, b.y)

        def line(text, wrapped=False, disabled=False):
            if disabled:
                imgui.push_style_color(imgui.Col_.text, imgui.get_style_color_vec4(imgui.Col_.text_disabled))
            if wrapped or disabled:
                imgui.text_wrapped(text)
            else:
                imgui.text(text)
            if disabled:
                imgui.pop_style_color()
            lay["lines"].append((text, rect()))

        imgui.push_text_wrap_pos(style.window_padding.x + width)
        line(info.get("source", ""), wrapped=True)
        line(info.get("state", ""), wrapped=True)
        line(f"{info.get('fps', 0.0):5.1f} frames/s")
        for name, value, number in rows:
            imgui.align_text_to_frame_padding()
            imgui.text(name)
            lay["labels"].append((name, rect()))
            imgui.same_line(x_bar)
            imgui.progress_bar(value, imgui.ImVec2(BAR_W, 0), "")
            lay["bars"].append((name, rect()))
            imgui.same_line(x_number)
            imgui.text(number)
            lay["numbers"].append((number, rect()))
        if info.get("note"):
            line(info["note"], disabled=True)
        for text in str(info.get("delay") or "").splitlines():
            line(text, wrapped=True)
        if info.get("record"):
            line(info["record"], wrapped=True)
        for text in info.get("notices", ()):
            imgui.push_style_color(imgui.Col_.text, imgui.ImVec4(*NOTICE_COLOR))
            line(text, wrapped=True)
            imgui.pop_style_color()
        line(keys, disabled=True)
        imgui.pop_text_wrap_pos()
        pos, size = imgui.get_window_pos(), imgui.get_window_size()
        lay["window"] = (pos.x, pos.y, pos.x + size.x, pos.y + size.y)
        self.layout = lay
        imgui.end()
        imgui.render()
        self.renderer.render(imgui.get_draw_data())

    def close(self) -> None:
        try:
            self.renderer.shutdown()
        except Exception:  # noqa: BLE001
            pass
        try:
            self.imgui.destroy_context(self.context)
        except Exception:  # noqa: BLE001
            pass
