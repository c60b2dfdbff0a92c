; Go tags: functions, methods, struct/interface/other types, interface methods, top-level constants, calls.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_declaration
  name: (field_identifier) @name.definition.method) @definition.method

(type_spec
  name: (type_identifier) @name.definition.struct
  type: (struct_type)) @definition.struct

(type_spec
  name: (type_identifier) @name.definition.interface
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name.definition.type) @definition.type

(type_alias
  name: (type_identifier) @name.definition.type) @definition.type

(method_elem
  name: (field_identifier) @name.definition.method) @definition.method

(source_file
  (const_declaration
    (const_spec
      name: (identifier) @name.definition.constant) @definition.constant))

(call_expression
  function: [
    (identifier) @name.reference.call
    (selector_expression
      field: (field_identifier) @name.reference.call)
    (parenthesized_expression (identifier) @name.reference.call)
  ]) @reference.call

(composite_literal
  type: [
    (type_identifier) @name.reference.class
    (qualified_type
      name: (type_identifier) @name.reference.class)
  ]) @reference.class
