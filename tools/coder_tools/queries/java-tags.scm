; Java tags: classes, records, interfaces, enums, methods, constructors, calls (new counts as a call).

[
  (class_declaration
    name: (identifier) @name.definition.class)
  (record_declaration
    name: (identifier) @name.definition.class)
] @definition.class

[
  (interface_declaration
    name: (identifier) @name.definition.interface)
  (annotation_type_declaration
    name: (identifier) @name.definition.interface)
] @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

[
  (method_declaration
    name: (identifier) @name.definition.method)
  (constructor_declaration
    name: (identifier) @name.definition.method)
] @definition.method

(method_invocation
  name: (identifier) @name.reference.call) @reference.call

(object_creation_expression
  type: [
    (type_identifier) @name.reference.call
    (generic_type (type_identifier) @name.reference.call)
  ]) @reference.call

(superclass
  (type_identifier) @name.reference.class)

(super_interfaces
  (type_list
    (type_identifier) @name.reference.implementation))
