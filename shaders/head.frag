// face3d head fragment shader: simple, pleasant lighting, kept cheap for CPU rasterisers.
//
// Key light (warm, three-quarter from the upper left), fill light (cool, weaker, from the
// right), a rim light from behind, hemispheric ambient (sky above, ground below), and a
// Blinn-Phong highlight from the key light scaled by the per-vertex gloss. Lighting is done
// in linear RGB and the output is gamma-encoded, with gamma 2.0 throughout (decode c*c,
// encode sqrt(c): within a few levels of the sRGB curve in the mid-tones, and much cheaper
// per pixel than pow() on a CPU rasteriser). Vertex colours arrive already decoded
// (once, on upload); texture colours are decoded here. Everything is in view
// space (positions and normals arrive there from the vertex shader): the lights are fixed
// to the camera, so the head looks well lit from wherever the camera orbits.

in vec3 v_position;  // view space
in vec3 v_normal;    // view space
in vec3 v_color;     // linear RGB (gamma 2.0 decoded)
in float v_gloss;
#ifdef HAS_TEXTURE
in vec2 v_uv;
uniform sampler2D u_texture;
#endif

uniform vec3 u_key_dir;        // unit direction TO the key light, view space
uniform vec3 u_key_color;
uniform vec3 u_fill_dir;
uniform vec3 u_fill_color;
uniform vec3 u_rim_dir;
uniform vec3 u_rim_color;
uniform vec3 u_sky_color;
uniform vec3 u_ground_color;

out vec4 f_color;

void main() {
    vec3 albedo = v_color;
#ifdef HAS_TEXTURE
    vec4 tex = texture(u_texture, v_uv);
#ifdef ALPHA_CUTOUT
    if (tex.a < 0.5) discard;  // alpha cut-out (hair cards, lashes); opaque parts carry alpha 1
#endif
    albedo *= tex.rgb * tex.rgb;
#endif

    // open or inconsistently wound meshes (drawn double-sided) light well from behind too
    vec3 n = normalize(v_normal) * (gl_FrontFacing ? 1.0 : -1.0);
    vec3 v = normalize(-v_position);

    float key = max(dot(n, u_key_dir), 0.0);
    float fill = max(dot(n, u_fill_dir), 0.0);
    float ndv = max(dot(n, v), 0.0);
    float edge = 1.0 - ndv;
    float rim = edge * edge * edge * max(dot(n, u_rim_dir) + 0.3, 0.0);
    vec3 ambient = mix(u_ground_color, u_sky_color, 0.5 + 0.5 * n.y);

    vec3 h = normalize(u_key_dir + v);
    float spec = key > 0.0 ? pow(max(dot(n, h), 0.0), 16.0 + 80.0 * v_gloss) * v_gloss * 0.6 : 0.0;

    vec3 c = albedo * (u_key_color * key + u_fill_color * fill + u_rim_color * (2.0 * rim) + ambient)
           + u_key_color * spec;
    if (v_gloss < -0.5) {
        // toon (MToon, unlit): the base colour as painted, one soft shadow step, no highlight
        float lit = smoothstep(-0.05, 0.25, dot(n, u_key_dir));
        c = albedo * mix(0.78, 1.0, lit) + albedo * (0.25 * rim);
    }
    f_color = vec4(sqrt(c), 1.0);
}
