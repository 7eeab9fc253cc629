// face3d head fragment shader: simple, pleasant lighting.
//
// Key light (warm, three-quarter from the upper left), fill light (cool, weaker, from the
// right), a rim light from behind, hemispheric ambient (sky above, ground below), and a
// Blinn-Phong highlight scaled by the per-vertex gloss. Colours are sRGB in, converted to
// linear for lighting, gamma-encoded on output. Lights are given in view space so the head
// looks well lit from wherever the camera orbits.

in vec3 v_position;
in vec3 v_normal;
in vec3 v_color;
in float v_gloss;
in vec2 v_uv;

uniform mat4 u_view;
uniform vec3 u_eye;            // camera position, world space
uniform vec3 u_key_dir;        // direction TO the key light, view space
uniform vec3 u_key_color;
uniform vec3 u_fill_dir;
uniform vec3 u_fill_color;
uniform vec3 u_rim_dir;
uniform vec3 u_rim_color;
uniform vec3 u_sky_color;
uniform vec3 u_ground_color;
uniform bool u_has_texture;
uniform sampler2D u_texture;

out vec4 f_color;

vec3 to_linear(vec3 c) { return pow(max(c, 0.0), vec3(2.2)); }
vec3 to_srgb(vec3 c) { return pow(max(c, 0.0), vec3(1.0 / 2.2)); }

vec3 light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo, float gloss) {
    float ndl = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float spec = pow(max(dot(n, h), 0.0), mix(16.0, 96.0, gloss)) * gloss * 0.6;
    return color * (albedo * ndl + vec3(spec) * step(0.0, ndl));
}

void main() {
    vec3 albedo = v_color;
    if (u_has_texture) albedo *= texture(u_texture, v_uv).rgb;
    albedo = to_linear(albedo);

    // Work in view space: the lights are fixed to the camera.
    mat3 view3 = mat3(u_view);
    vec3 n = normalize(view3 * v_normal);
    vec3 pos_v = (u_view * vec4(v_position, 1.0)).xyz;
    vec3 v = normalize(-pos_v);
    if (!gl_FrontFacing) n = -n;   // meshes with open or inconsistent winding still light well

    vec3 c = vec3(0.0);
    c += light(n, v, normalize(u_key_dir), u_key_color, albedo, v_gloss);
    c += light(n, v, normalize(u_fill_dir), u_fill_color, albedo, v_gloss * 0.5);
    // rim: a soft edge light that separates the silhouette from the background
    float rim = pow(1.0 - max(dot(n, v), 0.0), 3.0) * max(dot(n, normalize(u_rim_dir)) + 0.3, 0.0);
    c += u_rim_color * rim * albedo * 2.0;
    // hemispheric ambient, by the normal's up component in world space
    vec3 nw = normalize(v_normal) * (gl_FrontFacing ? 1.0 : -1.0);
    c += albedo * mix(u_ground_color, u_sky_color, 0.5 + 0.5 * nw.y);

    f_color = vec4(to_srgb(c), 1.0);
}
