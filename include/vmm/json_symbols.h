/*
 * The json-glib (and GObject) functions vmm calls: one line each. vmm loads
 * json-glib only on the paths that speak JSON (vmm/json_load.h), and
 * reaches these through a stub per name (src/arch/ARCH/json_stubs.S). A
 * function missing here fails vmm's link with an undefined reference:
 * add it.
 */
#define VMM_JSON_SYMBOLS \
    VMM_JSON_SYMBOL(json_array_add_int_element) \
    VMM_JSON_SYMBOL(json_array_add_object_element) \
    VMM_JSON_SYMBOL(json_array_add_string_element) \
    VMM_JSON_SYMBOL(json_array_get_element) \
    VMM_JSON_SYMBOL(json_array_get_int_element) \
    VMM_JSON_SYMBOL(json_array_get_length) \
    VMM_JSON_SYMBOL(json_array_get_string_element) \
    VMM_JSON_SYMBOL(json_array_new) \
    VMM_JSON_SYMBOL(json_builder_add_boolean_value) \
    VMM_JSON_SYMBOL(json_builder_add_int_value) \
    VMM_JSON_SYMBOL(json_builder_add_string_value) \
    VMM_JSON_SYMBOL(json_builder_begin_array) \
    VMM_JSON_SYMBOL(json_builder_begin_object) \
    VMM_JSON_SYMBOL(json_builder_end_array) \
    VMM_JSON_SYMBOL(json_builder_end_object) \
    VMM_JSON_SYMBOL(json_builder_get_root) \
    VMM_JSON_SYMBOL(json_builder_new) \
    VMM_JSON_SYMBOL(json_builder_set_member_name) \
    VMM_JSON_SYMBOL(json_from_string) \
    VMM_JSON_SYMBOL(json_generator_new) \
    VMM_JSON_SYMBOL(json_generator_set_indent) \
    VMM_JSON_SYMBOL(json_generator_set_pretty) \
    VMM_JSON_SYMBOL(json_generator_set_root) \
    VMM_JSON_SYMBOL(json_generator_to_data) \
    VMM_JSON_SYMBOL(json_node_alloc) \
    VMM_JSON_SYMBOL(json_node_copy) \
    VMM_JSON_SYMBOL(json_node_get_array) \
    VMM_JSON_SYMBOL(json_node_get_boolean) \
    VMM_JSON_SYMBOL(json_node_get_int) \
    VMM_JSON_SYMBOL(json_node_get_node_type) \
    VMM_JSON_SYMBOL(json_node_get_object) \
    VMM_JSON_SYMBOL(json_node_get_string) \
    VMM_JSON_SYMBOL(json_node_get_value_type) \
    VMM_JSON_SYMBOL(json_node_init_object) \
    VMM_JSON_SYMBOL(json_node_new) \
    VMM_JSON_SYMBOL(json_node_set_string) \
    VMM_JSON_SYMBOL(json_node_take_array) \
    VMM_JSON_SYMBOL(json_node_take_object) \
    VMM_JSON_SYMBOL(json_node_unref) \
    VMM_JSON_SYMBOL(json_object_get_boolean_member) \
    VMM_JSON_SYMBOL(json_object_get_int_member) \
    VMM_JSON_SYMBOL(json_object_get_member) \
    VMM_JSON_SYMBOL(json_object_get_members) \
    VMM_JSON_SYMBOL(json_object_get_object_member) \
    VMM_JSON_SYMBOL(json_object_get_size) \
    VMM_JSON_SYMBOL(json_object_get_string_member) \
    VMM_JSON_SYMBOL(json_object_get_string_member_with_default) \
    VMM_JSON_SYMBOL(json_object_has_member) \
    VMM_JSON_SYMBOL(json_object_new) \
    VMM_JSON_SYMBOL(json_object_ref) \
    VMM_JSON_SYMBOL(json_object_set_array_member) \
    VMM_JSON_SYMBOL(json_object_set_boolean_member) \
    VMM_JSON_SYMBOL(json_object_set_int_member) \
    VMM_JSON_SYMBOL(json_object_set_member) \
    VMM_JSON_SYMBOL(json_object_set_object_member) \
    VMM_JSON_SYMBOL(json_object_set_string_member) \
    VMM_JSON_SYMBOL(json_object_unref) \
    VMM_JSON_SYMBOL(json_parser_get_root) \
    VMM_JSON_SYMBOL(json_parser_load_from_data) \
    VMM_JSON_SYMBOL(json_parser_new) \
    VMM_JSON_SYMBOL(json_parser_new_immutable) \
    VMM_JSON_SYMBOL(json_to_string) \
    VMM_JSON_SYMBOL(g_object_unref) \
    /* end */
