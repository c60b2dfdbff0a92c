; TypeScript (and TSX) tags: JavaScript's plus interfaces, type aliases, enums, namespaces, signatures.

[
  (class_declaration
    name: (type_identifier) @name.definition.class)
  (abstract_class_declaration
    name: (type_identifier) @name.definition.class)
  (class
    name: (type_identifier) @name.definition.class)
] @definition.class

(interface_declaration
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

[
  (module
    name: (identifier) @name.definition.namespace)
  (internal_module
    name: (identifier) @name.definition.namespace)
] @definition.namespace

[
  (function_declaration
    name: (identifier) @name.definition.function)
  (generator_function_declaration
    name: (identifier) @name.definition.function)
  (function_signature
    name: (identifier) @name.definition.function)
] @definition.function

[
  (method_definition
    name: [(property_identifier) (private_property_identifier)] @name.definition.method)
  (method_signature
    name: (property_identifier) @name.definition.method)
  (abstract_method_signature
    name: (property_identifier) @name.definition.method)
] @definition.method

([
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name.definition.function
      value: [(arrow_function) (function_expression) (generator_function)]))
  (variable_declaration
    (variable_declarator
      name: (identifier) @name.definition.function
      value: [(arrow_function) (function_expression) (generator_function)]))
] @definition.function)

(assignment_expression
  left: (member_expression
    property: (property_identifier) @name.definition.function)
  right: [(arrow_function) (function_expression)]) @definition.function

(call_expression
  function: [
    (identifier) @name.reference.call
    (member_expression
      property: (property_identifier) @name.reference.call)
  ]) @reference.call

(new_expression
  constructor: [
    (identifier) @name.reference.call
    (member_expression
      property: (property_identifier) @name.reference.call)
  ]) @reference.call

(implements_clause
  (type_identifier) @name.reference.implementation)

(extends_clause
  value: (identifier) @name.reference.class)
