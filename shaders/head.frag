// face3d head fragment shader: simple, pleasant lighting, kept cheap for CPU rasterisers.
//
// Key light (warm, three-quarter from the upper left), fill light (cool, weaker, from the
// right), a rim light from behind, hemispheric ambient (sky above, ground below), and a
// Blinn-Phong highlight from the key light scaled by the per-vertex gloss. Vertex colours
// arrive already in linear RGB (converted once on upload); textures are sampled as sRGB
// and converted here. Output is gamma-encoded (sRGB, gamma 2.2). Lights are in view space
// so the head looks well lit from wherever the camera orbits.

in vec3 v_position;
in vec3 v_normal;
in vec3 v_color;     // linear RGB
in float v_gloss;
#ifdef HAS_TEXTURE
in vec2 v_uv;
uniform sampler2D u_texture;
#endif

uniform mat4 u_view;
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
    albedo *= pow(texture(u_texture, v_uv).rgb, vec3(2.2));
#endif

    float facing = gl_FrontFacing ? 1.0 : -1.0;   // open or inconsistently wound meshes light well too
    vec3 nw = normalize(v_normal) * facing;         // world space
    vec3 n = mat3(u_view) * nw;                     // view space (rotation only)
    vec3 v = normalize(-(u_view * vec4(v_position, 1.0)).xyz);

    float key = max(dot(n, u_key_dir), 0.0);
    float fill = max(dot(n, u_fill_dir), 0.0);
    float ndv = max(dot(n, v), 0.0);
    float edge = 1.0 - ndv;
    float rim = edge * edge * edge * max(dot(n, u_rim_dir) + 0.3, 0.0);
    vec3 ambient = mix(u_ground_color, u_sky_color, 0.5 + 0.5 * nw.y);

    vec3 h = normalize(u_key_dir + v);
    float spec = key > 0.0 ? pow(max(dot(n, h), 0.0), 16.0 + 80.0 * v_gloss) * v_gloss * 0.6 : 0.0;

    vec3 c = albedo * (u_key_color * key + u_fill_color * fill + u_rim_color * (2.0 * rim) + ambient)
           + u_key_color * spec;
    f_color = vec4(pow(c, vec3(1.0 / 2.2)), 1.0);
}
