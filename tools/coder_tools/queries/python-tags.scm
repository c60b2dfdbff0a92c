; Python tags: classes, functions (methods are functions nested in a class), module-level names, calls.

(class_definition
  name: (identifier) @name.definition.class) @definition.class

(function_definition
  name: (identifier) @name.definition.function) @definition.function

(module
  (assignment
    left: (identifier) @name.definition.variable) @definition.variable)

(call
  function: [
    (identifier) @name.reference.call
    (attribute
      attribute: (identifier) @name.reference.call)
  ]) @reference.call

(class_definition
  superclasses: (argument_list
    [
      (identifier) @name.reference.class
      (attribute
        attribute: (identifier) @name.reference.class)
    ]))
