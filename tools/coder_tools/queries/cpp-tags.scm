; C++ tags: C's plus classes, namespaces, methods (in-class and out-of-line Type::method), aliases, calls.

(class_specifier
  name: [
    (type_identifier) @name.definition.class
    (template_type name: (type_identifier) @name.definition.class)
  ]
  body: (_)) @definition.class

(struct_specifier
  name: [
    (type_identifier) @name.definition.struct
    (template_type name: (type_identifier) @name.definition.struct)
  ]
  body: (_)) @definition.struct

(union_specifier
  name: (type_identifier) @name.definition.union
  body: (_)) @definition.union

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (_)) @definition.enum

(namespace_definition
  name: [
    (namespace_identifier) @name.definition.namespace
    (nested_namespace_specifier (namespace_identifier) @name.definition.namespace .)
  ]) @definition.namespace

(type_definition
  declarator: [
    (type_identifier) @name.definition.type
    (function_declarator
      declarator: (parenthesized_declarator
        (pointer_declarator
          declarator: (type_identifier) @name.definition.type)))
  ]) @definition.type

(alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(function_definition
  declarator: [
    (function_declarator
      declarator: [
        (identifier) @name.definition.function
        (field_identifier) @name.definition.function
        (destructor_name) @name.definition.function
        (operator_name) @name.definition.function
        (qualified_identifier
          name: [(identifier) (destructor_name) (operator_name)] @name.definition.function)
        (qualified_identifier
          name: (qualified_identifier
            name: [(identifier) (destructor_name) (operator_name)] @name.definition.function))
      ])
    (pointer_declarator
      declarator: (function_declarator
        declarator: [
          (identifier) @name.definition.function
          (field_identifier) @name.definition.function
          (qualified_identifier name: (identifier) @name.definition.function)
        ]))
    (reference_declarator
      (function_declarator
        declarator: [
          (identifier) @name.definition.function
          (field_identifier) @name.definition.function
          (qualified_identifier name: (identifier) @name.definition.function)
        ]))
  ]) @definition.function

(field_declaration
  declarator: (function_declarator
    declarator: [
      (field_identifier) @name.definition.method
      (destructor_name) @name.definition.method
      (operator_name) @name.definition.method
    ])) @definition.method

(declaration
  declarator: (function_declarator
    declarator: (destructor_name) @name.definition.method)) @definition.method

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
    (qualified_identifier
      name: (identifier) @name.reference.call)
    (template_function
      name: (identifier) @name.reference.call)
  ]) @reference.call

(new_expression
  type: [
    (type_identifier) @name.reference.call
    (qualified_identifier name: (type_identifier) @name.reference.call)
    (template_type name: (type_identifier) @name.reference.call)
  ]) @reference.call

(base_class_clause
  (type_identifier) @name.reference.class)
