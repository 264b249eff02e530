// Stand-in for the customer's `./ui/Button` (shadcn-like: variant, size, className), just
// enough for NotificationCenter.tsx to build and look like their header.
const VARIANTS = {
  default: 'bg-blue-600 text-white hover:bg-blue-700',
  ghost: 'text-gray-600 hover:bg-gray-100 hover:text-gray-900',
  link: 'text-blue-600 underline-offset-4 hover:underline',
};
const SIZES = { default: 'h-10 px-4 py-2', sm: 'h-8 px-2 text-sm' };

export function Button({ variant = 'default', size = 'default', className = '', ...props }) {
  const sizing = variant === 'link' ? 'text-sm' : SIZES[size] || SIZES.default;
  const classes = `inline-flex items-center justify-center rounded-md font-medium transition-colors ${
    VARIANTS[variant] || VARIANTS.default
  } ${sizing} ${className}`;
  return <button type="button" className={classes} {...props} />;
}
