// face3d head vertex shader: applies weighted blendshapes, turns the eyeballs for gaze,
// then transforms (the model matrix turns the whole head about its neck pivot).
//
// The loader inserts "#define NUM_SHAPES K" (K >= 1) after the #version line, and
// "#define HAS_TEXTURE" for textured heads (only then is the uv varying passed on).
// Blendshape deltas live in a float texture, read by each vertex's "slot":
//   texel index (slot * NUM_SHAPES + k) * 2 + 0  = position delta of shape k (xyz)
//   texel index (slot * NUM_SHAPES + k) * 2 + 1  = normal delta of shape k (xyz)
// laid out row by row in a texture of width u_delta_width.
// Vertices no shape moves have slot -1 and do no blendshape work at all; the renderer
// orders vertices so those sit together, which keeps the branch coherent.
// Shapes whose weight is 0 are skipped (a uniform branch, the same for every vertex).

#ifndef NUM_SHAPES
#define NUM_SHAPES 1
#endif

in vec3 in_position;
in vec3 in_normal;
in vec3 in_color;
in float in_gloss;
in vec2 in_uv;
in int in_slot;
in int in_eye;          // 1 or 2: a vertex of that eyeball (turned for gaze); 0 otherwise

uniform mat4 u_modelview;   // model then view; rotation, translation and uniform scale only
uniform mat4 u_proj;
uniform float u_weights[NUM_SHAPES];
uniform sampler2D u_deltas;
uniform int u_delta_width;
uniform mat3 u_eye_rot;         // gaze: the eyeballs' rotation about their centres
uniform vec3 u_eye_center[2];

out vec3 v_position;   // view space (deformed); world space when the view is identity
out vec3 v_normal;     // view space, unit length
out vec3 v_color;
out float v_gloss;
#ifdef HAS_TEXTURE
out vec2 v_uv;
#endif

vec3 delta_texel(int index) {
    return texelFetch(u_deltas, ivec2(index % u_delta_width, index / u_delta_width), 0).xyz;
}

void main() {
    vec3 p = in_position;
    vec3 n = in_normal;
    if (in_slot >= 0) {
        int base = in_slot * NUM_SHAPES;
        for (int k = 0; k < NUM_SHAPES; ++k) {
            float w = u_weights[k];
            if (w == 0.0) continue;
            int i = (base + k) * 2;
            p += w * delta_texel(i);
            n += w * delta_texel(i + 1);
        }
    }
    if (in_eye > 0) {
        vec3 c = u_eye_center[in_eye - 1];
        p = c + u_eye_rot * (p - c);
        n = u_eye_rot * n;
    }
    vec4 eye = u_modelview * vec4(p, 1.0);
    v_position = eye.xyz;
    v_normal = normalize(mat3(u_modelview) * n);
    v_color = in_color;
    v_gloss = in_gloss;
#ifdef HAS_TEXTURE
    v_uv = in_uv;
#endif
    gl_Position = u_proj * eye;
}
