; C tags: structs, unions, enums (with bodies), typedefs, function definitions, function-like macros, calls.

(struct_specifier
  name: (type_identifier) @name.definition.struct
  body: (_)) @definition.struct

(union_specifier
  name: (type_identifier) @name.definition.union
  body: (_)) @definition.union

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (_)) @definition.enum

(type_definition
  declarator: [
    (type_identifier) @name.definition.type
    (function_declarator
      declarator: (parenthesized_declarator
        (pointer_declarator
          declarator: (type_identifier) @name.definition.type)))
  ]) @definition.type

(function_definition
  declarator: [
    (function_declarator
      declarator: (identifier) @name.definition.function)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (identifier) @name.definition.function))
    (pointer_declarator
      declarator: (pointer_declarator
        declarator: (function_declarator
          declarator: (identifier) @name.definition.function)))
  ]) @definition.function

[
  (preproc_function_def
    name: (identifier) @name.definition.macro)
  (preproc_def
    name: (identifier) @name.definition.macro
    value: (_))
] @definition.macro

(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression
      field: (field_identifier) @name.reference.call)
  ]) @reference.call
