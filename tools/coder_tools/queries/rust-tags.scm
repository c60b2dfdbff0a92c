; Rust tags: structs, enums, unions, traits, impls, functions (methods inside impl/trait), modules, macros, calls.

(struct_item
  name: (type_identifier) @name.definition.struct) @definition.struct

(union_item
  name: (type_identifier) @name.definition.union) @definition.union

(enum_item
  name: (type_identifier) @name.definition.enum) @definition.enum

(trait_item
  name: (type_identifier) @name.definition.trait) @definition.trait

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(impl_item
  type: [
    (type_identifier) @name.definition.impl
    (generic_type
      type: (type_identifier) @name.definition.impl)
    (scoped_type_identifier
      name: (type_identifier) @name.definition.impl)
  ]) @definition.impl

(function_item
  name: (identifier) @name.definition.function) @definition.function

(function_signature_item
  name: (identifier) @name.definition.method) @definition.method

(mod_item
  name: (identifier) @name.definition.module) @definition.module

(macro_definition
  name: (identifier) @name.definition.macro) @definition.macro

[
  (const_item
    name: (identifier) @name.definition.constant)
  (static_item
    name: (identifier) @name.definition.constant)
] @definition.constant

(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression
      field: (field_identifier) @name.reference.call)
    (scoped_identifier
      name: (identifier) @name.reference.call)
    (generic_function
      function: [
        (identifier) @name.reference.call
        (field_expression field: (field_identifier) @name.reference.call)
        (scoped_identifier name: (identifier) @name.reference.call)
      ])
  ]) @reference.call

(macro_invocation
  macro: (identifier) @name.reference.call) @reference.call

(struct_expression
  name: (type_identifier) @name.reference.class) @reference.class

(impl_item
  trait: (type_identifier) @name.reference.implementation)
